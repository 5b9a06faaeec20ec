import { redirect } from '@sveltejs/kit';
import { api, ApiError } from '$lib/api';
import type { Me } from '@domaeka/broker/contracts';
import type { LayoutLoad } from './$types';

/** Every page here needs a session: without one, the login page (and back here after). */
export const load: LayoutLoad = async ({ fetch, url }) => {
  try {
    return { me: await api<Me>('GET', '/me', undefined, fetch) };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) redirect(307, `/login?next=${encodeURIComponent(url.pathname)}`);
    throw err;
  }
};
