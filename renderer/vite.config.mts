// Builds the console into renderer/dist (run as `vite build renderer`, so paths are relative to
// this folder). Relative asset URLs let the same files load from the agent's web server and from
// the Electron shell. No inline scripts or styles end up in index.html: the agent's CSP forbids them.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // The polyfill is an inline-free module too, but every supported browser preloads natively.
    modulePreload: { polyfill: false },
    // One app of a few hundred KB: a single chunk loads fastest from loopback.
    chunkSizeWarningLimit: 1_000,
  },
  // The console's model runs in a module worker (src/worker/cluster-worker.ts): its own chunk.
  worker: { format: 'es' },
  server: { host: '127.0.0.1', strictPort: true },
});
