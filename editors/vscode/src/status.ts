// The status bar item: server state (starting, indexing with its progress, ready, stopped) from the
// client's state and the server's window/workDoneProgress ("Lore: indexing ..."). IndexProgress takes
// over window/workDoneProgress/create (registered after the client's built-in progress feature, so its
// handler wins) and reports every progress the server starts to the status bar instead of a popup.
import * as vscode from 'vscode';
import {
  ClientCapabilities,
  FeatureState,
  LanguageClient,
  ProgressToken,
  StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCreateRequest,
  WorkDoneProgressReport,
  WorkDoneProgressEnd,
} from 'vscode-languageclient/node';

export type State = 'starting' | 'indexing' | 'ready' | 'stopped' | 'failed';

export class Status implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private state: State = 'stopped';
  private detail = '';
  private last = '';

  constructor() {
    this.item = vscode.window.createStatusBarItem('lore.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Lore';
    this.item.command = 'lore.showServerLog';
    this.render();
    this.item.show();
  }

  set(state: State, detail = ''): void {
    this.state = state;
    this.detail = detail;
    if (state === 'ready' && detail) this.last = detail;
    this.render();
  }

  get current(): State {
    return this.state;
  }

  private render(): void {
    const icon = { starting: '$(loading~spin)', indexing: '$(sync~spin)', ready: '$(book)', stopped: '$(circle-slash)', failed: '$(error)' }[this.state];
    const label = this.state === 'ready' ? 'Lore' : this.state === 'indexing' && this.detail ? `Lore: ${this.detail}` : `Lore: ${this.state}`;
    this.item.text = `${icon} ${label}`;
    const lines = [`Lore language server: ${this.state}`];
    if (this.detail) lines.push(this.detail);
    if (this.last && this.last !== this.detail) lines.push(`Last index: ${this.last}`);
    lines.push('Click for the server log.');
    this.item.tooltip = lines.join('\n');
    this.item.backgroundColor = this.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}

type Progress = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export class IndexProgress implements StaticFeature {
  private readonly active = new Map<string, vscode.Disposable>();

  constructor(private readonly client: LanguageClient, private readonly status: Status) {}

  getState(): FeatureState {
    return { kind: 'static' };
  }

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = capabilities.window ?? {};
    capabilities.window.workDoneProgress = true;
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
      this.track(params.token);
      return null;
    });
  }

  private track(token: ProgressToken): void {
    const key = String(token);
    let title = '';
    const sub = this.client.onProgress(WorkDoneProgress.type, token, (value: Progress) => {
      if (value.kind === 'begin') {
        title = value.title.replace(/^Lore:\s*/, '');
        this.status.set('indexing', value.percentage !== undefined ? `${title} ${value.percentage}%` : `${title}…`);
      } else if (value.kind === 'report') {
        const bits = [title, value.message, value.percentage !== undefined ? `${value.percentage}%` : ''];
        this.status.set('indexing', bits.filter(Boolean).join(' '));
      } else {
        this.active.get(key)?.dispose();
        this.active.delete(key);
        if (this.active.size === 0) this.status.set('ready', value.message ?? '');
      }
    });
    this.active.set(key, sub);
  }

  clear(): void {
    for (const sub of this.active.values()) sub.dispose();
    this.active.clear();
  }
}
