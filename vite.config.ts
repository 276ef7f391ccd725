import { gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';
import type { Plugin } from 'vite';

// The web app (src/web) is built to dist/web, which `sealbox serve` serves on its own origin.
// Vite prints each file's size; this adds the total, raw and gzipped, as one line to watch.
function bundleTotal(): Plugin {
  let raw = 0;
  let gz = 0;
  return {
    name: 'sealbox-bundle-total',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        const bytes = file.type === 'chunk' ? Buffer.from(file.code) : Buffer.from(file.source as string | Uint8Array);
        raw += bytes.length;
        gz += gzipSync(bytes).length;
      }
    },
    closeBundle() {
      process.stdout.write(`web bundle total: ${(raw / 1024).toFixed(1)} kB (gzip ${(gz / 1024).toFixed(1)} kB)\n`);
    },
  };
}

export default defineConfig({
  root: 'src/web',
  base: '/',
  publicDir: false,
  logLevel: 'info',
  plugins: [bundleTotal()],
  build: {
    outDir: '../../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    // No inline polyfill script: the app's CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
  },
});
