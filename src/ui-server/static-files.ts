import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import type { RequestContext } from '../server/request-context.js';

/**
 * The built dashboard (Vite's dist/ui/), relative to this module: from src/ui-server/ under tsx
 * and from dist/ui-server/ when built, both reach the package's dist/ui/.
 */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

/**
 * The dashboard's pages run no inline script or style and talk only to this origin; framing is
 * refused (clickjacking), and no referrer leaves the gateway.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Hashed file names under assets/ never change content: cached for a year. */
const ASSET_CACHE = 'public, max-age=31536000, immutable';
/** Everything else (index.html above all) is revalidated, so a new build shows at once. */
const REVALIDATE = 'no-cache';

/**
 * The types a Vite build emits. A short table rather than a MIME library: the set is small and
 * fixed, and an unknown extension is served as bytes (with nosniff) rather than guessed.
 */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves GET/HEAD under /ui from `root`: a file if the path names one, a 404 for a missing file
 * under assets/, and index.html for any other path (the app routes on the client). A 503 says
 * how to build the dashboard when it is not built.
 */
export async function serveStatic(ctx: RequestContext, root: string, path: string): Promise<void> {
  const relative = relativePath(path);
  if (relative === null) return sendText(ctx, 404, 'Not found.\n');
  const file = relative === '' ? null : await fileStats(join(root, relative));
  if (file !== null) return sendFile(ctx, join(root, relative), file, relative.startsWith(`assets${sep}`) ? ASSET_CACHE : REVALIDATE);
  if (relative.startsWith(`assets${sep}`)) return sendText(ctx, 404, 'Not found.\n');
  const index = join(root, 'index.html');
  const indexStats = await fileStats(index);
  if (indexStats === null) return sendText(ctx, 503, 'The dashboard is not built. Run `npm run build` (it builds dist/ui/), then reload this page.\n');
  return sendFile(ctx, index, indexStats, REVALIDATE);
}

/** The path below /ui as a relative file path, or null when it would leave the folder or is malformed. */
function relativePath(path: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.slice('/ui'.length));
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..' || segment.startsWith('.'))) return null;
  return normalize(segments.join(sep)).replace(/^\.$/, '');
}

async function fileStats(file: string): Promise<Stats | null> {
  try {
    const stats = await stat(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

async function sendFile(ctx: RequestContext, file: string, stats: Stats, cacheControl: string): Promise<void> {
  const res = ctx.res;
  const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  const headers = {
    ...UI_SECURITY_HEADERS,
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'cache-control': cacheControl,
    etag,
  };
  if (ctx.req.headers['if-none-match'] === etag) {
    ctx.status = 304;
    ctx.headers.writeHead(res, 304, headers);
    res.end();
    return;
  }
  ctx.status = 200;
  ctx.headers.writeHead(res, 200, { ...headers, 'content-length': stats.size });
  if (ctx.req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(createReadStream(file), res);
  } catch {
    // The client left, or the file went away mid-read (a rebuild): nothing more can be sent.
    res.destroy();
  }
}

function sendText(ctx: RequestContext, status: number, text: string): void {
  ctx.status = status;
  ctx.headers.writeHead(ctx.res, status, {
    ...UI_SECURITY_HEADERS,
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : text);
}
