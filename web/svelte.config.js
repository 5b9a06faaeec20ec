import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** adapter-node: `build/handler.js` is served by server.js, which also proxies the API. */
export default {
  preprocess: vitePreprocess(),
  // precompress: gzip and brotli copies of the assets (Monaco's chunk is ~2.7 MB raw, ~0.7 MB gzipped), served by the handler.
  kit: { adapter: adapter({ out: 'build', precompress: true }) },
};
