// `npm run package`: type-check, then bundle for production and pack lore-<version>.vsix with vsce, offline
// (--no-dependencies: everything is bundled into out/extension.js, so vsce never runs npm).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = process.argv[2] || join(root, `${pkg.name}-${pkg.version}.vsix`);
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run(bin('tsc'), ['--noEmit', '-p', '.']);
// vsce runs the `vscode:prepublish` script (the production bundle) before packing.
run(bin('vsce'), ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository',
  // README images stay relative: VS Code shows them from the installed extension folder.
  '--no-rewrite-relative-links',
  '--out', out]);
console.log(`packaged ${out}`);
