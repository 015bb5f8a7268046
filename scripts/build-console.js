#!/usr/bin/env node
// Build the operator console (console/*.ts, Preact + htm + uPlot from node_modules) into dist/console/: one bundled
// script and one stylesheet named by their content hash (cached for good by pvsync serve), and index.html naming them
// (revalidated on every load). Part of `npm run build`; nothing is fetched from a CDN at run time.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(repo, 'dist', 'console');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(repo, 'console', 'main.ts')],
  bundle: true, minify: true, sourcemap: true, format: 'esm', target: ['es2022'], platform: 'browser',
  outdir: join(out, 'assets'), entryNames: '[name]-[hash]', metafile: true, logLevel: 'warning', legalComments: 'linked',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (js === undefined || css === undefined) throw new Error(`console build: missing outputs in ${outputs.join(', ')}`);
const html = readFileSync(join(repo, 'console', 'index.html'), 'utf8')
  .replace('%SCRIPT%', `/console/assets/${js}`).replace('%STYLE%', `/console/assets/${css}`);
writeFileSync(join(out, 'index.html'), html);
const bytes = outputs.reduce((n, f) => n + (f.endsWith('.map') ? 0 : readFileSync(join(out, 'assets', f)).length), 0);
console.log(`console: dist/console/ (${js}, ${css}; ${Math.round(bytes / 1024)} KiB)`);
