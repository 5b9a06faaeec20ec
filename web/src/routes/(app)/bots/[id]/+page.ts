import { error } from '@sveltejs/kit';
import { api, ApiError } from '$lib/api';
import { t } from '$lib/i18n';
import type { BotView, Json } from '@domaeka/broker/contracts';
import type { PageLoad } from './$types';

/** Another tenant's bot or a made-up id: the API's 404 (400 for a non-uuid) is the page's 404. */
export const load: PageLoad = async ({ fetch, params }) => {
  try {
    return { bot: await api<Json<BotView>>('GET', `/bots/${encodeURIComponent(params.id)}`, undefined, fetch) };
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) error(404, { message: t('error.notFound'), code: err.code });
    throw err;
  }
};
