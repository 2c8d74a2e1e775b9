#!/usr/bin/env node
/**
 * Bundles the dashboard (src/capabilities/dashboard/ui) into dist/dashboard/assets: one script, one
 * stylesheet and the icon, each with a content hash in its name, and index.html naming them.
 * Everything the page needs is in that folder; it loads nothing from anywhere else.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src/capabilities/dashboard/ui');
const out = join(root, 'dist/dashboard/assets');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: join(src, 'main.tsx'), style: join(src, 'styles.css') },
  outdir: out,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: join(src, 'tsconfig.json'),
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const pick = (re) => {
  const name = outputs.find((n) => re.test(n));
  if (!name) throw new Error(`dashboard build: no output matching ${re}`);
  return name;
};
const js = pick(/^app-.*\.js$/);
const css = pick(/^style-.*\.css$/);

const icon = await readFile(join(src, 'icon.svg'));
const iconName = `icon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
await writeFile(join(out, iconName), icon);

const html = (await readFile(join(src, 'index.html'), 'utf8'))
  .replaceAll('%APP_JS%', `/dashboard/assets/${js}`)
  .replaceAll('%APP_CSS%', `/dashboard/assets/${css}`)
  .replaceAll('%ICON%', `/dashboard/assets/${iconName}`);
await writeFile(join(out, 'index.html'), html);

const kb = (name) => (result.metafile.outputs[join('dist/dashboard/assets', name)]?.bytes ?? 0) / 1024;
if (process.env.npm_config_loglevel !== 'silent') {
  process.stdout.write(`dashboard: ${js} ${kb(js).toFixed(1)} KiB, ${css} ${kb(css).toFixed(1)} KiB\n`);
}
