import type { OnboardingView } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import type { OnboardingRepository } from './onboarding-repository.js';

/**
 * The home page's first-run checklist (봇 만들기 -> 명령어 -> 폰 연결 ->
 * 첫 답장): each step done by what the tenant's data says, so a step done
 * anywhere (another browser, the API with a key, the phone) ticks here too.
 */
export class OnboardingService {
  constructor(private readonly repo: OnboardingRepository) {}

  async state(caller: Caller): Promise<OnboardingView> {
    const f = await this.repo.facts(caller.tenantId);
    return {
      bot: { done: f.first_bot !== null, botId: f.first_bot },
      command: { done: f.first_command !== null, commandId: f.first_command === null ? null : Number(f.first_command) },
      phone: { done: f.approved > 0, pending: f.pending, botId: f.phone_bot ?? f.first_bot },
      reply: { done: f.first_call !== null, at: f.first_call === null ? null : new Date(f.first_call) },
    };
  }
}
