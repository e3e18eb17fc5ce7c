// Before the language client starts: is Lore installed, and does it work, for the chosen command? `lore
// serve --check` imports the server (and its dependencies) and prints the version; a missing or broken
// install fails here with its cause (`No module named 'lore'`, a missing dependency, an interpreter that
// does not exist), which the extension shows in one message instead of the client's raw errors.
import { execFile } from 'node:child_process';
import { Launch } from './launch';

export interface Checked {
  ok: boolean;
  /** `lore-lsp 0.1.0 (python 3.11.2 at /…/python)` when ok; the cause when not. */
  detail: string;
  /** Everything the check printed, for the log. */
  output: string;
}

const TIMEOUT_MS = 60_000;

/** The line of a failed check's output that names the cause. */
export function cause(output: string, fallback: string): string {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const named = [...lines].reverse().find((l) => /(Error|No module named|not found|No such|Permission denied|requires|lore:)/.test(l));
  return (named ?? lines[lines.length - 1] ?? fallback).replace(/^lore:\s*/, '').slice(0, 300);
}

export function preflight(launch: Launch, env: NodeJS.ProcessEnv, cwd: string): Promise<Checked> {
  return new Promise((resolve) => {
    execFile(launch.command, [...launch.args, '--check'], { env, cwd, timeout: TIMEOUT_MS, windowsHide: true }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!err) {
        resolve({ ok: true, detail: stdout.trim().split('\n').pop() ?? '', output });
        return;
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        resolve({ ok: false, detail: `${launch.command} does not exist`, output: output || String(err) });
      } else if (code === 'EACCES') {
        resolve({ ok: false, detail: `${launch.command} is not executable`, output: output || String(err) });
      } else if (err.killed) {
        resolve({ ok: false, detail: `${launch.command} did not answer within ${TIMEOUT_MS / 1000} s`, output });
      } else {
        const why = cause(output, `exit code ${String(code)}`);
        resolve({ ok: false, detail: why.startsWith(`${launch.command}: `) ? why.slice(launch.command.length + 2) : why, output });
      }
    });
  });
}
