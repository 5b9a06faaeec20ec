// The web app's security headers, in one place: svelte.config.js gives the
// CSP directives to SvelteKit (`kit.csp`, which adds a fresh nonce for the
// page's own start-up script on every page), and server.js sends the same
// policy without the nonce, plus the other headers, on every response it
// makes (assets, the Monaco worker, proxied API answers). Followed: the
// OWASP Secure Headers Project and the OWASP CSP cheat sheet ("strict" CSP:
// nonces for scripts, nothing inline or eval'd; frame-ancestors against
// clickjacking, with X-Frame-Options for older browsers).

/**
 * SvelteKit's `kit.csp.directives` form (keywords without quotes).
 * - script-src: our own files; SvelteKit adds the nonce of its inline boot script.
 * - style-src 'unsafe-inline': Monaco writes its styles and style attributes at
 *   run time (no nonce can cover them); styles cannot run code.
 * - worker-src blob:: Monaco's editor worker is a same-origin file, but Monaco
 *   falls back to a blob: worker when it cannot start one from a URL.
 * - img/font data:: Monaco's and the app's small inline images and icons.
 * - connect-src 'self': the API and the socket.io WebSocket on this origin.
 */
export const cspDirectives = {
  'default-src': ['self'],
  'script-src': ['self'],
  'style-src': ['self', 'unsafe-inline'],
  'img-src': ['self', 'data:', 'blob:'],
  'font-src': ['self', 'data:'],
  'worker-src': ['self', 'blob:'],
  'connect-src': ['self'],
  'object-src': ['none'],
  'base-uri': ['self'],
  'form-action': ['self'],
  'frame-ancestors': ['none'],
};

const KEYWORDS = new Set(['self', 'none', 'unsafe-inline', 'unsafe-eval', 'strict-dynamic', 'unsafe-hashes', 'wasm-unsafe-eval']);

/** The directives as a header value (keywords quoted, as SvelteKit writes them). */
export function cspHeader(directives = cspDirectives) {
  return Object.entries(directives)
    .map(([name, values]) => [name, ...values.map((v) => (KEYWORDS.has(v) ? `'${v}'` : v))].join(' '))
    .join('; ');
}

/** The headers every response of the web server carries (SvelteKit's page CSP replaces the nonce-less one). */
export const securityHeaders = {
  'content-security-policy': cspHeader(),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
