import { error } from '@sveltejs/kit';
import { api, ApiError } from '$lib/api';
import { t } from '$lib/i18n';
import type { CommandView, Json } from '@domaeka/broker/contracts';
import type { PageLoad } from './$types';

/** Another tenant's command, a deleted one or a made-up id: the API says 404, so does the page. */
export const load: PageLoad = async ({ fetch, params }) => {
  if (!/^\d{1,15}$/.test(params.id)) error(404, { message: t('error.notFound'), code: 'KB_ERR_NOT_FOUND' });
  try {
    return { command: await api<Json<CommandView>>('GET', `/commands/${params.id}`, undefined, fetch) };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) error(404, { message: t('error.notFound'), code: err.code });
    throw err;
  }
};
