// Which command starts the server. Order: lore.serverPath (a `lore` executable), lore.pythonPath, the
// Python extension's active interpreter (optional, when ms-python.python is installed), the workspace's
// virtual environment (.venv/, venv/), `lore` on PATH, python3. A Python interpreter runs `-m lore serve`,
// the same entry point as `lore serve`. A setting the user wrote is used as it is (and its failure is
// reported); the automatic candidates are tried in order until one passes the preflight check.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export interface Launch {
  command: string;
  args: string[];
  /** Where the choice came from, for the log and the messages. */
  origin: string;
  /** A setting the user wrote (lore.serverPath / lore.pythonPath): no fallback when it fails. */
  explicit: boolean;
  /** The interpreter to install Lore into when this candidate lacks it (undefined for a `lore` executable). */
  python?: string;
}

/** The PyPI distribution that installs the `lore` command (`lore` on PyPI is another project). */
export const DISTRIBUTION = 'lore-lsp';
const SERVE_MODULE = ['-m', 'lore', 'serve'];
const WINDOWS = process.platform === 'win32';

function expand(p: string): string {
  if (p.startsWith('~/') || p === '~') {
    return path.join(process.env.HOME ?? '', p.slice(1));
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  return p.replace(/\$\{workspaceFolder\}/g, folder);
}

function executable(candidate: string): boolean {
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
    return fs.statSync(candidate).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, WINDOWS ? `${name}.exe` : name);
    if (executable(candidate)) return candidate;
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

/** `lore` or `python` in the workspace folders' virtual environments (.venv/, venv/). */
function workspaceVenvs(): Launch[] {
  const out: Launch[] = [];
  const bin = WINDOWS ? 'Scripts' : 'bin';
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') continue;
    for (const venv of ['.venv', 'venv']) {
      const dir = path.join(folder.uri.fsPath, venv, bin);
      const python = path.join(dir, WINDOWS ? 'python.exe' : 'python');
      const lore = path.join(dir, WINDOWS ? 'lore.exe' : 'lore');
      if (executable(lore)) {
        out.push({ command: lore, args: ['serve'], origin: `the workspace's ${venv}/`, explicit: false, python: executable(python) ? python : undefined });
      } else if (executable(python)) {
        out.push({ command: python, args: [...SERVE_MODULE], origin: `the workspace's ${venv}/`, explicit: false, python });
      }
    }
  }
  return out;
}

/** The commands that may start the server, most specific first. */
export async function candidates(cfg: vscode.WorkspaceConfiguration): Promise<Launch[]> {
  const serverPath = (cfg.get<string>('serverPath') ?? '').trim();
  if (serverPath) {
    return [{ command: expand(serverPath), args: ['serve'], origin: 'lore.serverPath', explicit: true }];
  }
  const pythonPath = (cfg.get<string>('pythonPath') ?? '').trim();
  if (pythonPath) {
    const python = expand(pythonPath);
    return [{ command: python, args: [...SERVE_MODULE], origin: 'lore.pythonPath', explicit: true, python }];
  }
  const out: Launch[] = [];
  const interpreter = await activeInterpreter();
  if (interpreter) {
    out.push({ command: interpreter, args: [...SERVE_MODULE], origin: 'the Python extension', explicit: false, python: interpreter });
  }
  out.push(...workspaceVenvs());
  const lore = onPath('lore');
  if (lore) out.push({ command: lore, args: ['serve'], origin: 'PATH', explicit: false });
  const python3 = onPath(WINDOWS ? 'python' : 'python3');
  out.push({ command: python3 ?? 'python3', args: [...SERVE_MODULE], origin: 'python3 on PATH', explicit: false, python: python3 ?? 'python3' });
  const unique = new Map<string, Launch>();
  for (const c of out) if (!unique.has(c.command)) unique.set(c.command, c);
  return [...unique.values()];
}

/** Settings whose change needs a new server process (the others reach the running server). */
export const RESTART_SETTINGS = ['lore.pythonPath', 'lore.serverPath'];
