// Which command starts the server. Order: lore.serverPath (a `lore` executable), lore.pythonPath, the
// Python extension's active interpreter (optional, when ms-python.python is installed), `lore` on PATH,
// python3. A Python interpreter runs `-m lore serve`, the same entry point as `lore serve`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export interface Launch {
  command: string;
  args: string[];
  /** Where the choice came from, for the log. */
  origin: string;
}

const SERVE_MODULE = ['-m', 'lore', 'serve'];

function expand(p: string): string {
  if (p.startsWith('~/') || p === '~') {
    return path.join(process.env.HOME ?? '', p.slice(1));
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  return p.replace(/\$\{workspaceFolder\}/g, folder);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(env: { path: string } | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand: string[] | undefined } };
}

/** The ms-python.python API, when that extension is installed (never required). */
export async function pythonApi(): Promise<PythonApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    return ext.isActive ? ext.exports : await ext.activate();
  } catch {
    return undefined;
  }
}

async function activeInterpreter(): Promise<string | undefined> {
  const api = await pythonApi();
  if (!api) return undefined;
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  try {
    const envPath = api.environments?.getActiveEnvironmentPath(resource);
    if (envPath) {
      const env = await api.environments!.resolveEnvironment(envPath);
      const exe = env?.executable.uri?.fsPath;
      if (exe) return exe;
    }
    const cmd = api.settings?.getExecutionDetails?.(resource).execCommand;
    if (cmd && cmd.length === 1) return cmd[0];
  } catch {
    // the Python extension is optional: fall through
  }
  return undefined;
}

export async function resolveLaunch(cfg: vscode.WorkspaceConfiguration): Promise<Launch> {
  const serverPath = (cfg.get<string>('serverPath') ?? '').trim();
  if (serverPath) {
    return { command: expand(serverPath), args: ['serve'], origin: 'lore.serverPath' };
  }
  const pythonPath = (cfg.get<string>('pythonPath') ?? '').trim();
  if (pythonPath) {
    return { command: expand(pythonPath), args: [...SERVE_MODULE], origin: 'lore.pythonPath' };
  }
  const interpreter = await activeInterpreter();
  if (interpreter) {
    return { command: interpreter, args: [...SERVE_MODULE], origin: 'the Python extension' };
  }
  const lore = onPath('lore');
  if (lore) {
    return { command: lore, args: ['serve'], origin: 'PATH' };
  }
  return { command: 'python3', args: [...SERVE_MODULE], origin: 'default' };
}

/** Settings whose change needs a new server process (the others reach the running server). */
export const RESTART_SETTINGS = ['lore.pythonPath', 'lore.serverPath'];
