// The server's settings (section "lore": repos, cacheDir, features, maxHoverNotes, serveSaved, logLevel), sent as
// initializationOptions; later changes reach the server through workspace/configuration, which the
// language client answers from the same section.
import * as vscode from 'vscode';

export interface ServerSettings {
  repos: string[];
  cacheDir: string | null;
  features: Record<string, boolean>;
  maxHoverNotes: number;
  serveSaved: string;
  logLevel: string;
}

export function serverSettings(cfg: vscode.WorkspaceConfiguration): ServerSettings {
  const cacheDir = cfg.get<string | null>('cacheDir') ?? null;
  return {
    repos: cfg.get<string[]>('repos') ?? [],
    cacheDir: cacheDir && cacheDir.trim() ? cacheDir : null,
    features: cfg.get<Record<string, boolean>>('features') ?? {},
    maxHoverNotes: cfg.get<number>('maxHoverNotes') ?? 8,
    serveSaved: cfg.get<string>('serveSaved') ?? 'auto',
    logLevel: cfg.get<string>('logLevel') ?? 'warning',
  };
}
