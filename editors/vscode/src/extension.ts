// Lore for VS Code: starts the Lore language server (`lore serve` over stdio) with vscode-languageclient,
// restarts it when the interpreter settings change, and adds the status bar item and the Lore commands.
// Hover, diagnostics, code actions, code lenses and navigation come from the server itself.
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from 'vscode-languageclient/node';
import { afterServerCommand, Host, registerCommands, SERVER } from './commands';
import { ContextDocuments, SCHEME } from './contextView';
import { pythonApi, resolveLaunch, RESTART_SETTINGS } from './launch';
import { SystemMapView } from './systemMap';
import { serverSettings } from './settings';
import { IndexProgress, Status } from './status';

const SERVER_COMMANDS = new Set<string>([SERVER.showConsumers, SERVER.showHistory, SERVER.copyContext]);

class Controller implements Host, vscode.Disposable {
  private current: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  readonly output = vscode.window.createOutputChannel('Lore');
  readonly trace = vscode.window.createOutputChannel('Lore Trace');
  readonly status = new Status();
  readonly contexts = new ContextDocuments();
  readonly maps = new SystemMapView((line) => this.output.appendLine(line));

  client(): LanguageClient | undefined {
    if (this.current?.state === State.Running) return this.current;
    void vscode.window.showWarningMessage('Lore: the server is not running.', 'Show Log', 'Restart').then((pick) => {
      if (pick === 'Show Log') this.output.show(true);
      if (pick === 'Restart') void this.restart();
    });
    return undefined;
  }

  async start(): Promise<void> {
    if (this.starting) return this.starting;
    this.starting = this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const cfg = vscode.workspace.getConfiguration('lore');
    const launch = await resolveLaunch(cfg);
    this.output.appendLine(`[lore] starting ${launch.command} ${launch.args.join(' ')} (from ${launch.origin})`);
    this.status.set('starting');
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio, // appends --stdio, which `lore serve` accepts
      options: { env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      initializationOptions: serverSettings(cfg),
      synchronize: { configurationSection: 'lore' },
      outputChannel: this.output,
      traceOutputChannel: this.trace,
      middleware: {
        executeCommand: async (command, args, next) => {
          const result = await next(command, args);
          if (SERVER_COMMANDS.has(command)) await afterServerCommand(this, command, args, result);
          return result;
        },
      },
    };
    const client = new LanguageClient('lore', 'Lore', serverOptions, clientOptions);
    client.registerFeature(new IndexProgress(client, this.status));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running && this.status.current !== 'indexing') this.status.set('ready');
      if (e.newState === State.Stopped) this.status.set(this.status.current === 'failed' ? 'failed' : 'stopped');
      void vscode.commands.executeCommand('setContext', 'lore.running', e.newState === State.Running);
    });
    this.current = client;
    try {
      await client.start();
    } catch (err) {
      this.status.set('failed', String(err));
      this.output.appendLine(`[lore] the server did not start: ${err instanceof Error ? err.message : String(err)}`);
      const pick = await vscode.window.showErrorMessage(
        `Lore: the server did not start with ${launch.command} (from ${launch.origin}). Is Lore installed for that interpreter?`,
        'Open Settings', 'Show Log');
      if (pick === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'lore.pythonPath');
      if (pick === 'Show Log') this.output.show(true);
    }
  }

  async stop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.appendLine(`[lore] stop: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.status.set('stopped');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  dispose(): void {
    void this.stop();
    this.status.dispose();
    this.contexts.dispose();
    this.maps.dispose();
    this.output.dispose();
    this.trace.dispose();
  }
}

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const ctl = new Controller();
  controller = ctl;
  context.subscriptions.push(
    ctl,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, ctl.contexts),
    ...registerCommands(ctl, () => ctl.restart(), () => ctl.output.show(true)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) {
        ctl.output.appendLine('[lore] interpreter settings changed: restarting the server');
        void ctl.restart();
      }
    }),
  );
  const api = await pythonApi();
  const onEnv = api?.environments?.onDidChangeActiveEnvironmentPath;
  if (onEnv) {
    context.subscriptions.push(onEnv(() => {
      const cfg = vscode.workspace.getConfiguration('lore');
      if (!cfg.get<string>('pythonPath') && !cfg.get<string>('serverPath')) void ctl.restart();
    }));
  }
  await ctl.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
