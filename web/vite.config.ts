import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `npm run dev`: the API behind the dev server too, so the browser sees one origin (cookies, socket.io).
const api = process.env.API_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? '8080'}`;

export default defineConfig({
  plugins: [sveltekit()],
  // The root node_modules hoists cookie@2 (fastify's); kit needs its own 0.6 copy, so bundle it from kit's folder.
  ssr: { noExternal: ['cookie'] },
  // Monaco's core is one lazily loaded ~2.7 MB chunk by design (loaded in the editor's onMount).
  build: { chunkSizeWarningLimit: 3000 },
  server: {
    proxy: {
      '/api': { target: api },
      '/socket.io': { target: api, ws: true },
    },
  },
});
