import type { Registry } from 'prom-client';
import type { Logger, SecretBox } from '@domaeka/core';
import type { EgressPolicy } from '@domaeka/calls';
import type { Orm } from '../db/em.js';
import type { MessageService } from '../messages/message-service.js';
import { KakaoChannelService } from './kakao-channel-service.js';
import { KakaoRepository } from './kakao-repository.js';
import { KakaoMetrics, SkillCallbacks } from './skill-callbacks.js';
import { KakaoSkillService, type SkillTiming } from './skill-service.js';

/** The official KakaoTalk channel: the bot page's settings and the skill server. */
export interface KakaoServices {
  channel: KakaoChannelService;
  skill: KakaoSkillService;
}

export function createKakao(deps: {
  orm: Orm;
  secrets: SecretBox;
  messages: MessageService;
  /** The callbacks go out through the platform's egress policy. */
  egress: EgressPolicy;
  logger: Logger;
  registry?: Registry;
  timing?: Partial<SkillTiming>;
}): KakaoServices {
  const repo = new KakaoRepository(deps.orm);
  const metrics = new KakaoMetrics(deps.registry);
  return {
    channel: new KakaoChannelService(repo, deps.secrets),
    skill: new KakaoSkillService({
      repo,
      messages: deps.messages,
      callbacks: new SkillCallbacks(deps.egress, deps.logger, metrics),
      metrics,
      logger: deps.logger,
      timing: deps.timing,
    }),
  };
}
