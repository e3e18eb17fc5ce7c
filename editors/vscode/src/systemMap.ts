// "Lore: Show System Map": the map page the server builds (lore.systemMap: services, contracts from
// provider to consumer, search, focus, a side panel per service) in a webview beside the editor,
// centred on the service of the active file. Clicking a service, a link or a file in the page asks the
// extension to open that file at its line; only files inside the repositories of the map are opened.
import * as path from 'path';
import * as vscode from 'vscode';

export interface SystemMap {
  html: string;
  center: string | null;
  nodes: number;
  edges: number;
  repos: Record<string, string | null>;
}

interface OpenMessage { type: 'open'; root: unknown; path: unknown; line: unknown }

/** The file a page message names, when it lies inside one of the map's repository roots. */
export function fileToOpen(repos: Record<string, string | null>, msg: OpenMessage): { file: string; line: number } | undefined {
  if (typeof msg.root !== 'string' || typeof msg.path !== 'string') return undefined;
  const roots = Object.values(repos).filter((r): r is string => typeof r === 'string');
  if (!roots.includes(msg.root)) return undefined;
  const file = path.resolve(msg.root, msg.path);
  if (file !== msg.root && !file.startsWith(msg.root.endsWith(path.sep) ? msg.root : msg.root + path.sep)) return undefined;
  const line = typeof msg.line === 'number' && Number.isInteger(msg.line) && msg.line >= 0 ? msg.line : 0;
  return { file, line };
}

export class SystemMapView implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private repos: Record<string, string | null> = {};
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly log: (line: string) => void) {}

  show(map: SystemMap, from?: string): void {
    this.repos = map.repos ?? {};
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('lore.systemMap', 'Lore: System Map',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
        // the page is self-contained (inline scripts by nonce, no resources): nothing to load from disk
        { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [], enableFindWidget: true });
      this.panel.onDidDispose(() => (this.panel = undefined), null, this.subscriptions);
      this.panel.webview.onDidReceiveMessage((msg) => void this.onMessage(msg), null, this.subscriptions);
    } else {
      this.panel.reveal(undefined, false);
    }
    this.panel.webview.html = map.html;
    this.log(`[lore] system map: ${map.nodes} nodes, ${map.edges} links, centred on ${map.center ?? 'nothing'} (active file: ${from ?? 'none'})`);
  }

  private async onMessage(msg: unknown): Promise<void> {
    if (!msg || typeof msg !== 'object') return;
    const m = msg as { type?: unknown };
    if (m.type === 'ready') {
      this.log(`[lore] system map page ready: ${JSON.stringify(msg)}`);
      return;
    }
    if (m.type !== 'open') return;
    const target = fileToOpen(this.repos, msg as OpenMessage);
    if (!target) {
      this.log(`[lore] system map: refused to open ${JSON.stringify(msg)} (not inside a repository of the map)`);
      return;
    }
    const pos = new vscode.Position(target.line, 0);
    const column = this.panel?.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One;
    try {
      await vscode.window.showTextDocument(vscode.Uri.file(target.file),
        { viewColumn: column, selection: new vscode.Range(pos, pos), preserveFocus: true, preview: true });
    } catch (err) {
      void vscode.window.showWarningMessage(`Lore: cannot open ${target.file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
