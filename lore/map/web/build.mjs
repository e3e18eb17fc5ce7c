// Copy the graph library's distributed files and licences from node_modules (installed by `npm ci`
// from package-lock.json) into ../assets/vendor/, with vendor.json naming each file's package, version
// and sha256. The copies are committed: `pip install` users get them without npm. No CDN at view time.
//   node build.mjs           copy and write vendor.json
//   node build.mjs --check   exit 1 unless the committed copies equal node_modules and the lock
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'assets', 'vendor');
// Load order matters: each UMD build reads the globals of the ones before it.
const FILES = [
  { name: 'cytoscape', dist: 'dist/cytoscape.min.js' },
  { name: 'layout-base', dist: 'layout-base.js' },
  { name: 'cose-base', dist: 'cose-base.js' },
  { name: 'cytoscape-fcose', dist: 'cytoscape-fcose.js' },
];
const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const check = process.argv.includes('--check');
const problems = [];
const manifest = [];
mkdirSync(out, { recursive: true });
for (const f of FILES) {
  const pkgDir = join(here, 'node_modules', f.name);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const locked = lock.packages[`node_modules/${f.name}`]?.version;
  if (pkg.version !== locked) problems.push(`${f.name}: node_modules has ${pkg.version}, the lock ${locked}`);
  const file = `${f.name}.js`;
  const data = readFileSync(join(pkgDir, f.dist));
  const licence = readFileSync(join(pkgDir, 'LICENSE'));
  manifest.push({ name: f.name, version: pkg.version, license: pkg.license, source: f.dist, file,
    sha256: sha256(data), license_file: `${f.name}.LICENSE`, license_sha256: sha256(licence) });
  if (check) {
    for (const [target, want] of [[file, data], [`${f.name}.LICENSE`, licence]]) {
      let have = null;
      try { have = readFileSync(join(out, target)); } catch { /* missing */ }
      if (!have || !have.equals(want)) problems.push(`${target}: differs from node_modules/${f.name}`);
    }
  } else {
    copyFileSync(join(pkgDir, f.dist), join(out, file));
    copyFileSync(join(pkgDir, 'LICENSE'), join(out, `${f.name}.LICENSE`));
  }
}
const text = JSON.stringify({ comment: 'Built by lore/map/web/build.mjs from package-lock.json; do not edit.', files: manifest }, null, 2) + '\n';
if (check) {
  let have = '';
  try { have = readFileSync(join(out, 'vendor.json'), 'utf8'); } catch { /* missing */ }
  if (have !== text) problems.push('vendor.json: differs from what build.mjs writes');
  if (problems.length) {
    console.error(`lore map vendor check failed:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`lore map vendor: ${manifest.map((m) => `${m.name}@${m.version}`).join(', ')} match the lock`);
} else {
  if (problems.length) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  writeFileSync(join(out, 'vendor.json'), text);
  console.log(`copied ${manifest.map((m) => `${m.name}@${m.version}`).join(', ')} to ${out}`);
}
