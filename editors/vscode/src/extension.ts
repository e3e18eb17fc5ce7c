// Lore for VS Code: starts the Lore language server (`lore serve` over stdio) with vscode-languageclient,
// restarts it when the interpreter settings change, and adds the status bar item and the Lore commands.
// Hover, diagnostics, code actions, code lenses and navigation come from the server itself.
//
// When things go wrong the user gets one message, never a notification that blocks anything: activation
// awaits nothing the user must answer; a missing or broken install is found before the client starts
// (preflight.ts) and named with what to run; a server that stops is not restarted five times; the
// client's own error notifications go to the log only. Every command answers, running or not.
import { spawn, ChildProcess } from 'node:child_process';
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, LanguageClient, LanguageClientOptions, RevealOutputChannelOn, ServerOptions, State } from 'vscode-languageclient/node';
import { afterServerCommand, Host, registerCommands, SERVER } from './commands';
import { ContextDocuments, SCHEME } from './contextView';
import { candidates, DISTRIBUTION, Launch, pythonApi, RESTART_SETTINGS } from './launch';
import { preflight } from './preflight';
import { SystemMapView } from './systemMap';
import { serverSettings } from './settings';
import { IndexProgress, Status } from './status';

const SERVER_COMMANDS = new Set<string>([SERVER.showConsumers, SERVER.showHistory, SERVER.copyContext]);

/** The language client with its own notifications routed to the log: the controller says what matters once. */
class QuietClient extends LanguageClient {
  error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

interface Failure {
  message: string;
  settings: boolean;
}

class Controller implements Host, vscode.Disposable {
  private current: LanguageClient | undefined;
  private child: ChildProcess | undefined;
  private starting: Promise<void> | undefined;
  private failure: Failure | undefined;
  private stopping = false;
  readonly output = vscode.window.createOutputChannel('Lore');
  readonly trace = vscode.window.createOutputChannel('Lore Trace');
  readonly status = new Status();
  readonly contexts = new ContextDocuments();
  readonly maps = new SystemMapView((line) => this.output.appendLine(line));

  /** `cwd`: where the server runs, a folder of no workspace (`python -m lore` puts the current folder on
   * sys.path: a workspace's own `lore/` folder must never be what runs). */
  constructor(private readonly cwd: string) {}

  client(): LanguageClient | undefined {
    if (this.current?.state === State.Running) return this.current;
    if (this.starting) {
      void vscode.window.showInformationMessage('Lore: the server is starting; try again in a moment.');
    } else if (this.failure) {
      this.tell(this.failure);
    } else {
      this.tell({ message: 'Lore: the server is not running.', settings: false });
    }
    return undefined;
  }

  /** One message with its actions; never awaited, so nothing waits for the user to answer it. */
  private tell(failure: Failure): void {
    const actions = failure.settings ? ['Open Settings', 'Show Log', 'Restart'] : ['Show Log', 'Restart'];
    void vscode.window.showErrorMessage(failure.message, ...actions).then((pick) => {
      if (pick === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'lore.pythonPath');
      if (pick === 'Show Log') this.output.show(true);
      if (pick === 'Restart') void this.restart();
    });
  }

  private fail(failure: Failure, detail: string): void {
    this.failure = failure;
    this.status.set('failed', detail);
    this.output.appendLine(`[lore] ${failure.message}`);
    this.tell(failure);
  }

  start(): Promise<void> {
    if (this.starting) return this.starting;
    this.starting = this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** The first candidate that passes the preflight check; a failure message when none does. */
  private async choose(env: NodeJS.ProcessEnv): Promise<Launch | undefined> {
    const cfg = vscode.workspace.getConfiguration('lore');
    const all = await candidates(cfg);
    const tried: string[] = [];
    for (const launch of all) {
      const line = `${launch.command} ${launch.args.join(' ')} --check`;
      const checked = await preflight(launch, env, this.cwd);
      this.output.appendLine(`[lore] ${line} (from ${launch.origin}): ${checked.ok ? checked.detail : `failed: ${checked.detail}`}`);
      if (!checked.ok && checked.output) this.output.appendLine(checked.output.replace(/^/gm, '    '));
      if (checked.ok) return launch;
      tried.push(`${launch.command} (${launch.origin}): ${checked.detail}`);
      if (launch.explicit) {
        const fix = launch.python ? `run ${launch.python} -m pip install ${DISTRIBUTION}, or change ${launch.origin}` : `change ${launch.origin}`;
        this.fail({ message: `Lore cannot start with ${launch.origin} ${launch.command} (${checked.detail}): ${fix}.`, settings: true }, checked.detail);
        return undefined;
      }
    }
    const python = all.find((c) => c.python)?.python ?? 'python3';
    const why = tried[0] ?? 'nothing to run';
    this.fail({
      message: `Lore is not installed (${why}): run ${python} -m pip install ${DISTRIBUTION}, ` +
        'or set lore.pythonPath (an interpreter with Lore) or lore.serverPath.',
      settings: true,
    }, 'not installed');
    this.output.appendLine(`[lore] tried: ${tried.join('; ')}`);
    return undefined;
  }

  private async doStart(): Promise<void> {
    this.failure = undefined;
    this.status.set('starting');
    const env = { ...process.env, PYTHONUNBUFFERED: '1' };
    const launch = await this.choose(env);
    if (!launch) return;
    this.output.appendLine(`[lore] starting ${launch.command} ${launch.args.join(' ')} --stdio (from ${launch.origin})`);
    const cfg = vscode.workspace.getConfiguration('lore');
    const serverOptions: ServerOptions = async () => {
      const child = spawn(launch.command, [...launch.args, '--stdio'], { env, cwd: this.cwd, windowsHide: true });
      this.child = child;
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        this.output.appendLine(`[lore] the server exited (${signal ?? `code ${String(code)}`})`);
      });
      return child;
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      initializationOptions: serverSettings(cfg),
      synchronize: { configurationSection: 'lore' },
      outputChannel: this.output,
      traceOutputChannel: this.trace,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationFailedHandler: () => false, // no retry loop: the controller reports the failure once
      errorHandler: {
        error: () => ({ action: ErrorAction.Shutdown, handled: true }),
        closed: () => {
          if (!this.stopping) {
            this.fail({ message: 'Lore: the server stopped. The log says why; Restart starts it again.', settings: false }, 'the server stopped');
          }
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
      middleware: {
        executeCommand: async (command, args, next) => {
          const result = await next(command, args);
          if (SERVER_COMMANDS.has(command)) await afterServerCommand(this, command, args, result);
          return result;
        },
      },
    };
    const client = new QuietClient('lore', 'Lore', serverOptions, clientOptions);
    client.registerFeature(new IndexProgress(client, this.status));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running && this.status.current !== 'indexing') this.status.set('ready');
      if (e.newState === State.Stopped && this.status.current !== 'failed') this.status.set('stopped');
      void vscode.commands.executeCommand('setContext', 'lore.running', e.newState === State.Running);
    });
    this.current = client;
    try {
      await client.start();
    } catch (err) {
      if (!this.failure) {
        this.fail({ message: `Lore: the server did not start (${err instanceof Error ? err.message : String(err)}). The log says why.`, settings: true }, 'did not start');
      }
    }
  }

  async stop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    this.stopping = true;
    try {
      if (client && client.state !== State.Stopped) {
        await client.stop(5000);
      }
    } catch (err) {
      this.output.appendLine(`[lore] stop: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.stopping = false;
      this.child?.kill();
      this.child = undefined;
    }
    this.status.set('stopped');
  }

  async restart(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
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

export function activate(context: vscode.ExtensionContext): void {
  const ctl = new Controller(context.extensionPath);
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
  // Nothing here is awaited: activation ends at once, commands answer while the server starts.
  void pythonApi().then((api) => {
    const onEnv = api?.environments?.onDidChangeActiveEnvironmentPath;
    if (onEnv) {
      context.subscriptions.push(onEnv(() => {
        const cfg = vscode.workspace.getConfiguration('lore');
        if (!cfg.get<string>('pythonPath') && !cfg.get<string>('serverPath')) void ctl.restart();
      }));
    }
  });
  void ctl.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
