import { api } from '$lib/api';
import type { CommandStatsItem, CommandView, Json, OnboardingView } from '@domaeka/broker/contracts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch }) => {
  const [commands, stats, onboarding] = await Promise.all([
    api<Json<CommandView>[]>('GET', '/commands', undefined, fetch),
    // Calls and error rate of the last day; an API without the stats route shows '-'.
    api<{ items: CommandStatsItem[] }>('GET', '/stats/commands?window=day', undefined, fetch).catch(() => null),
    // The first-run checklist's steps; without an answer the page is the list alone.
    api<Json<OnboardingView>>('GET', '/onboarding', undefined, fetch).catch(() => null),
  ]);
  return { commands, stats: new Map((stats?.items ?? []).map((s) => [s.commandId, s])), onboarding };
};
