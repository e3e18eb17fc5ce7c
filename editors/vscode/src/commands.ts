// The extension's commands (command palette, editor context menu) and the client side of the server's
// commands: a code action or code lens that runs lore.showConsumers / lore.showHistory /
// lore.copyContext gets its result shown (peek, preview, clipboard) by `afterServerCommand`.
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient, Location as LspLocation, State } from 'vscode-languageclient/node';
import { Context, ContextDocuments, renderContext } from './contextView';
import { SystemMap, SystemMapView } from './systemMap';

export const CONTEXT_REQUEST = 'lore/context';
export const SERVER = {
  reindex: 'lore.reindex',
  showConsumers: 'lore.showConsumers',
  showHistory: 'lore.showHistory',
  copyContext: 'lore.copyContext',
  systemMap: 'lore.systemMap',
} as const;

export interface Host {
  /** The running client, or undefined (with a message shown) when the server is not running. */
  client(): LanguageClient | undefined;
  readonly contexts: ContextDocuments;
  readonly maps: SystemMapView;
}

function fence(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((s) => s.length));
  const f = '`'.repeat(longest + 1);
  return `${f}text\n${text}\n${f}`;
}

function cursor(): { editor: vscode.TextEditor; uri: string; line: number; col: number; endLine: number } | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Lore: open a file first.');
    return undefined;
  }
  const sel = editor.selection;
  const endLine = sel.isEmpty || sel.end.character > 0 || sel.end.line === sel.start.line ? sel.end.line : sel.end.line - 1;
  return { editor, uri: editor.document.uri.toString(), line: sel.start.line, col: sel.start.character, endLine };
}

export async function executeServerCommand(client: LanguageClient, command: string, args: unknown[]): Promise<unknown> {
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
}

export async function contextAt(client: LanguageClient, uri: string, line: number, col: number, endLine: number): Promise<Context | null> {
  const params = endLine > line
    ? { textDocument: { uri }, range: { start: { line, character: col }, end: { line: endLine, character: 0 } } }
    : { textDocument: { uri }, position: { line, character: col } };
  return client.sendRequest<Context | null>(CONTEXT_REQUEST, params);
}

async function peek(client: LanguageClient, uri: string, line: number, col: number, locations: unknown, what: string): Promise<void> {
  const locs = Array.isArray(locations)
    ? (locations as LspLocation[]).map((l) => client.protocol2CodeConverter.asLocation(l))
    : [];
  if (!locs.length) {
    void vscode.window.showInformationMessage(`Lore: no ${what} found.`);
    return;
  }
  await vscode.commands.executeCommand('editor.action.showReferences', vscode.Uri.parse(uri), new vscode.Position(line, col), locs);
}

async function copy(text: unknown): Promise<void> {
  if (typeof text !== 'string') return;
  await vscode.env.clipboard.writeText(text);
  const lines = text.split('\n').length;
  void vscode.window.showInformationMessage(`Lore: copied the system context (${lines} lines) to the clipboard.`);
}

/** Show what a server command returned when a code action or code lens ran it. */
export async function afterServerCommand(host: Host, command: string, args: unknown[], result: unknown): Promise<void> {
  const client = host.client();
  if (!client) return;
  if (command === SERVER.showConsumers && typeof args[0] === 'string') {
    const role = args[4] === 'provides' ? 'providers' : 'consumers';
    await peek(client, args[0], Number(args[1]) || 0, Number(args[2]) || 0, result, `${role} of ${String(args[3])}`);
  } else if (command === SERVER.showHistory && typeof result === 'string') {
    await host.contexts.show('history', `# Lore: history\n\n${fence(result)}\n`);
  } else if (command === SERVER.copyContext) {
    await copy(result);
  }
}

export function registerCommands(host: Host, restart: () => Promise<void>, showLog: () => void): vscode.Disposable[] {
  const withClient = (fn: (client: LanguageClient) => Promise<void>) => async () => {
    const client = host.client();
    if (!client) return;
    try {
      await fn(client);
    } catch (err) {
      if (client.state !== State.Running) return; // the server went away: the extension has said so, once
      void vscode.window.showErrorMessage(`Lore: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return [
    vscode.commands.registerCommand('lore.restartServer', restart),
    vscode.commands.registerCommand('lore.showServerLog', showLog),
    vscode.commands.registerCommand('lore.reindexWorkspace', withClient(async (client) => {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Lore: reindexing' },
        () => executeServerCommand(client, SERVER.reindex, [{ force: false }]),
      ) as { files?: number; links?: number; entities?: number; repos?: string[] } | null;
      if (result) {
        void vscode.window.showInformationMessage(
          `Lore: indexed ${result.files ?? 0} files in ${(result.repos ?? []).length} repositories: ` +
          `${result.entities ?? 0} contract entities, ${result.links ?? 0} links.`);
      }
    })),
    vscode.commands.registerCommand('lore.showContextAtCursor', withClient(async (client) => {
      const at = cursor();
      if (!at) return;
      const ctx = await contextAt(client, at.uri, at.line, at.col, at.endLine);
      if (!ctx) {
        void vscode.window.showInformationMessage('Lore: this file is not in an indexed repository.');
        return;
      }
      await host.contexts.show(`${ctx.repo}-${ctx.path}-${ctx.line + 1}`, renderContext(ctx));
    })),
    vscode.commands.registerCommand('lore.copyAIContext', withClient(async (client) => {
      const at = cursor();
      if (!at) return;
      await copy(await executeServerCommand(client, SERVER.copyContext, [at.uri, at.line, at.endLine]));
    })),
    vscode.commands.registerCommand('lore.showSystemMap', withClient(async (client) => {
      // the active editor; from the map itself (a webview has focus), the editor beside it
      const editor = vscode.window.activeTextEditor
        ?? vscode.window.visibleTextEditors.find((e) => e.document.uri.scheme === 'file');
      const uri = editor?.document.uri;
      const map = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Lore: drawing the system map' },
        () => executeServerCommand(client, SERVER.systemMap, [uri?.scheme === 'file' ? { uri: uri.toString() } : {}]),
      ) as SystemMap | null;
      if (!map || typeof map.html !== 'string') {
        void vscode.window.showInformationMessage('Lore: no system map (is the workspace indexed?).');
        return;
      }
      host.maps.show(map, uri?.toString());
    })),
    vscode.commands.registerCommand('lore.showConsumersAtCursor', withClient(async (client) => {
      const at = cursor();
      if (!at) return;
      const ctx = await contextAt(client, at.uri, at.line, at.col, at.line);
      const ids = ctx?.entity_ids ?? [];
      if (!ids.length) {
        void vscode.window.showInformationMessage('Lore: no contract entity at the cursor.');
        return;
      }
      const ident = ids.length === 1 ? ids[0] : await vscode.window.showQuickPick(ids, { placeHolder: 'Show the consumers of' });
      if (!ident) return;
      const locations = await executeServerCommand(client, SERVER.showConsumers, [at.uri, at.line, at.col, ident, 'consumes']);
      await peek(client, at.uri, at.line, at.col, locations, `consumers of ${ident}`);
    })),
  ];
}
