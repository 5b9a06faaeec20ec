// The app is a client-rendered SPA behind a login: every page reads the API
// with the browser's session cookie, so server rendering would only proxy it.
export const ssr = false;
export const prerender = false;
