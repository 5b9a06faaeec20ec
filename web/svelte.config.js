import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';
import { cspDirectives } from './security-headers.js';

/** adapter-node: `build/handler.js` is served by server.js, which also proxies the API. */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // precompress: gzip and brotli copies of the assets (Monaco's chunk is ~2.7 MB raw, ~0.7 MB gzipped), served by the handler.
    adapter: adapter({ out: 'build', precompress: true }),
    // A nonce per page for SvelteKit's inline start-up script; the rest of the policy in security-headers.js.
    csp: { mode: 'nonce', directives: cspDirectives },
  },
};
