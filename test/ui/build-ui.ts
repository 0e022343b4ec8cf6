import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));
export const UI_DIST = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The browser tests run against the built dashboard (dist/ui/, as the gateway serves it in
 * production). It is built here, once, when it is missing or older than any file under ui/, so
 * a test run never shows a stale dashboard.
 */
export async function ensureUiBuilt(): Promise<void> {
  const index = join(UI_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource(UI_DIR)) return;
  const { build } = await import('vite');
  await build({ configFile: join(UI_DIR, 'vite.config.ts'), logLevel: 'warn' });
}
