// "Lore: Show Context at Cursor": the `lore/context` JSON (query.Context) rendered as markdown in a
// read-only virtual document (scheme lore-context:) and shown in the markdown preview beside the editor.
// Repository text is untrusted: every piece of it is escaped before it reaches the renderer.
import * as vscode from 'vscode';

export const SCHEME = 'lore-context';

export interface Span { start_line: number; start_col: number; end_line: number; end_col: number }
export interface Note { text: string; source: string; kind?: string; location?: { repo: string; path: string; range: Span } | null }
export interface Section { name: string; title: string; notes: Note[]; empty?: string }
export interface Context {
  repo: string;
  path: string;
  line: number;
  col: number | null;
  sections: Section[];
  entity_ids: string[];
  problems?: string[];
}

/** Escape text for CommonMark: no markup, no HTML, no links from repository content. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_{}[\]()#+\-.!|~>]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  const clean = text.replace(/`/g, "'").replace(/\r?\n/g, ' ');
  return `\`${clean}\``;
}

export function renderContext(ctx: Context): string {
  const where = `${ctx.repo}/${ctx.path}:${ctx.line + 1}${ctx.col !== null && ctx.col !== undefined ? `:${ctx.col + 1}` : ''}`;
  const out = [`# Lore: ${escapeMarkdown(where)}`, ''];
  if (ctx.entity_ids.length) {
    out.push(`Contract entities here: ${ctx.entity_ids.map(code).join(', ')}`, '');
  }
  for (const section of ctx.sections) {
    out.push(`## ${escapeMarkdown(section.title)}`, '');
    if (!section.notes.length) {
      out.push(`_${escapeMarkdown(section.empty || 'nothing known')}_`, '');
      continue;
    }
    for (const note of section.notes) {
      out.push(`- ${escapeMarkdown(note.text)}${note.source ? ` — ${code(note.source)}` : ''}`);
    }
    out.push('');
  }
  for (const problem of ctx.problems ?? []) {
    out.push(`> ${escapeMarkdown(problem)}`, '');
  }
  return out.join('\n');
}

export class ContextDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Show `markdown` in the preview beside the editor (plain markdown source when no preview exists). */
  async show(name: string, markdown: string): Promise<vscode.Uri> {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${name.replace(/[^\w.-]+/g, '_')}.md` });
    this.texts.set(uri.toString(), markdown);
    this.changed.fire(uri);
    try {
      await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
    } catch {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    }
    return uri;
  }

  dispose(): void {
    this.changed.dispose();
    this.texts.clear();
  }
}
