import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// No @vitejs/plugin-react: Vite 8's own Oxc transform compiles TSX with the automatic runtime.
// (No fast refresh; a change reloads the page, which is fine for this app.)
export default defineConfig(({ command, mode }) => ({
  root: here,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    // The service's CSP allows no inline code: never inline assets as data: scripts.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  // A build is for production unless asked otherwise (`--mode development`), whatever NODE_ENV the
  // calling process has (Jest sets NODE_ENV=test, which would otherwise ship React's dev build).
  define: command === 'build' ? { 'process.env.NODE_ENV': JSON.stringify(mode === 'development' ? 'development' : 'production') } : {},
  server: {
    // `npm run dev:web` next to `npm start`: the API is the running service.
    proxy: { '/api': 'http://127.0.0.1:3000', '/health': 'http://127.0.0.1:3000' },
  },
}));
