import { error } from '@sveltejs/kit';
import { t } from '$lib/i18n';
import type { PageLoad } from './$types';

/**
 * Any address no page answers, signed in: the Korean not-found page inside
 * the signed-in layout (menu and all), not the bare root error page.
 */
export const load: PageLoad = () => {
  error(404, { message: t('error.notFound'), code: 'KB_ERR_NOT_FOUND' });
};
