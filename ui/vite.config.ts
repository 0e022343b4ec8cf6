import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard is built into dist/ui/, which the gateway serves at /ui (assets under
 * /ui/assets/ with content hashes, so they can be cached for long). JSX goes through Vite's own
 * transform with Preact's automatic runtime: no React, no extra plugin.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The gateway's Content-Security-Policy allows no inline script or style, so nothing is inlined.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  logLevel: 'info',
});
