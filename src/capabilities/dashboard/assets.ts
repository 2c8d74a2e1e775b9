/**
 * The dashboard's built files (`npm run build` bundles `src/capabilities/dashboard/ui` into
 * `dist/dashboard/assets/`): read once at startup, gzipped once, served from memory.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

export interface Asset {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
}

export interface DashboardAssets {
  dir: string;
  page: Asset;
  files: Map<string, Asset>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** Where the build puts the assets (`dist/dashboard/assets/`), seen from `dist/capabilities/dashboard/` (built) and from `src/capabilities/dashboard/` (tests run the sources). */
const CANDIDATES = [new URL('../../dashboard/assets/', import.meta.url), new URL('../../../dist/dashboard/assets/', import.meta.url)];

async function load(name: string, body: Buffer): Promise<Asset> {
  const type = TYPES[extname(name)] ?? 'application/octet-stream';
  const zipped = body.length > 1024 && !type.startsWith('image/') ? await gzipAsync(body) : null;
  return { body, gzip: zipped, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** The first built asset folder found, or null when the dashboard was not built. */
export async function loadDashboardAssets(dirs: readonly URL[] = CANDIDATES): Promise<DashboardAssets | null> {
  for (const url of dirs) {
    const dir = fileURLToPath(url);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    if (!names.includes('index.html')) continue;
    const files = new Map<string, Asset>();
    for (const name of names) files.set(name, await load(name, await readFile(`${dir}${name}`)));
    const page = files.get('index.html')!;
    files.delete('index.html');
    return { dir, page, files };
  }
  return null;
}
