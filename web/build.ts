// Builds the web UI into dist/ui: esbuild bundles web/src (Preact, TSX) into one script and one
// stylesheet named by their content hash, and index.html names them (with subresource integrity).
// `npm start`, `npm run build` and the test set-up run it; it takes well under a second.
// Run as a script (node dist/web/build.js) it builds into <project>/dist/ui.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { ASSET_PREFIX, webUiDir, webUiFiles } from '../src/api/web-ui-files';

export interface WebUiBuild {
  /** index.html and assets/. */
  outDir: string;
  /** The asset file names index.html references. */
  assets: string[];
}

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="30" fill="#2f9e44"/><path d="M32 12c10 8 14 18 12 30-6 6-18 6-24 0-2-12 2-22 12-30z" fill="#b2f2bb"/><path d="M32 16v34" stroke="#2f9e44" stroke-width="3"/></svg>\n`;

const hashOf = (data: Uint8Array | string) => crypto.createHash('sha256').update(data).digest('base64url').slice(0, 10);
const integrity = (data: Uint8Array | string) => `sha384-${crypto.createHash('sha384').update(data).digest('base64')}`;

/** Writes a file through a temporary name, so a server reading it never sees half of it. */
function writeAtomically(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export async function buildWebUi(opts: { root: string; outDir?: string }): Promise<WebUiBuild> {
  const outDir = opts.outDir ?? webUiDir(opts.root);
  const { page, assets: assetsDir } = webUiFiles(outDir);
  const result = await build({
    absWorkingDir: opts.root,
    entryPoints: [path.join(opts.root, 'web', 'src', 'main.tsx')],
    bundle: true,
    write: false,
    outdir: assetsDir,
    entryNames: 'app-[hash]',
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(opts.root, 'web', 'tsconfig.json'),
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const outputs = result.outputFiles.map((f) => ({ name: path.basename(f.path), contents: f.contents }));
  const icon = { name: `icon-${hashOf(ICON)}.svg`, contents: Buffer.from(ICON) };
  const script = outputs.find((f) => f.name.endsWith('.js'));
  const style = outputs.find((f) => f.name.endsWith('.css'));
  if (!script || !style) throw new Error('The web UI build produced no script or no stylesheet.');

  // No inline script or style: the Content-Security-Policy forbids both.
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lettuce</title>
<link rel="icon" type="image/svg+xml" href="${ASSET_PREFIX}${icon.name}">
<link rel="stylesheet" href="${ASSET_PREFIX}${style.name}" integrity="${integrity(style.contents)}">
<script type="module" src="${ASSET_PREFIX}${script.name}" integrity="${integrity(script.contents)}"></script>
</head>
<body>
<div id="app"></div>
<noscript>Lettuce's web UI needs JavaScript.</noscript>
</body>
</html>
`;
  fs.mkdirSync(assetsDir, { recursive: true });
  const files = [script, style, icon];
  for (const f of files) writeAtomically(path.join(assetsDir, f.name), f.contents);
  writeAtomically(page, html);
  // Assets of earlier builds: names are content hashes, so whatever the new page does not name is stale.
  const keep = new Set(files.map((f) => f.name));
  for (const name of fs.readdirSync(assetsDir)) if (!keep.has(name) && !name.endsWith('.tmp')) fs.rmSync(path.join(assetsDir, name), { force: true });
  return { outDir, assets: [...keep] };
}

if (require.main === module) {
  // dist/web/build.js → the project root is two levels up.
  const root = path.resolve(__dirname, '..', '..');
  buildWebUi({ root }).then(
    (b) => process.stdout.write(`Built the web UI into ${path.relative(process.cwd(), b.outDir) || '.'}.\n`),
    (err: Error & { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }) => {
      const first = err.errors?.[0];
      process.stderr.write(`The web UI did not build: ${first ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ''}${first.text}` : err.message}\n`);
      process.exit(1);
    },
  );
}
