import type { KakaoChannelView } from '@domaeka/broker/contracts';
import type { SecretBox } from '@domaeka/core';
import type { Caller } from '../accounts/caller.js';
import { randomToken, sha256Hex } from '../accounts/tokens.js';
import { apiErrors } from '../errors.js';
import type { KakaoRepository } from './kakao-repository.js';
import { KAKAO_TEXTS } from './skill-response.js';

/** 24 random bytes, URL-safe: 32 characters of `[A-Za-z0-9_-]`. */
const KEY_BYTES = 24;
export const SKILL_KEY = /^[A-Za-z0-9_-]{32}$/;
export const SKILL_PATH = '/kakao/skill/';

export function newSkillKey(): { key: string; hash: string } {
  const key = randomToken(KEY_BYTES);
  return { key, hash: sha256Hex(key) };
}

/**
 * The bot page's "카카오톡 채널" section: the skill URL to paste into Kakao i
 * Open Builder (made on first view), a new key on demand (the old URL stops
 * answering at once), and the text an utterance with no command gets. The
 * key is kept twice: its SHA-256 finds the bot on every skill call, and
 * sealed with SECRETS_KEY so the page can show the URL again.
 */
export class KakaoChannelService {
  constructor(
    private readonly repo: KakaoRepository,
    private readonly secrets: SecretBox,
  ) {}

  /** `origin`: where Kakao reaches this platform (PUBLIC_URL, else the address the browser used). */
  async view(caller: Caller, botId: string, origin: string): Promise<KakaoChannelView> {
    let channel = await this.channel(caller, botId);
    if (channel.keyEnc === null) {
      const { key, hash } = newSkillKey();
      await this.repo.setFirstKey(caller.tenantId, botId, hash, this.secrets.seal(key));
      channel = await this.channel(caller, botId);
    }
    return this.toView(channel, origin);
  }

  async rotate(caller: Caller, botId: string, origin: string): Promise<KakaoChannelView> {
    const { key, hash } = newSkillKey();
    if (!(await this.repo.rotateKey(caller.tenantId, botId, hash, this.secrets.seal(key)))) throw apiErrors.notFound('bot');
    return this.toView(await this.channel(caller, botId), origin);
  }

  /** Blank or null: back to the default text. */
  async setFallback(caller: Caller, botId: string, text: string | null, origin: string): Promise<KakaoChannelView> {
    const fallback = text === null || text.trim() === '' ? null : text.trim();
    if (!(await this.repo.setFallback(caller.tenantId, botId, fallback))) throw apiErrors.notFound('bot');
    return this.view(caller, botId, origin);
  }

  private async channel(caller: Caller, botId: string): Promise<{ keyEnc: string | null; fallbackText: string | null }> {
    const channel = await this.repo.channel(caller.tenantId, botId);
    if (!channel) throw apiErrors.notFound('bot');
    return channel;
  }

  private toView(channel: { keyEnc: string | null; fallbackText: string | null }, origin: string): KakaoChannelView {
    if (channel.keyEnc === null) throw new Error('the bot has no skill key after setting one');
    const skillKey = this.secrets.open(channel.keyEnc);
    return {
      skillUrl: `${origin.replace(/\/+$/, '')}${SKILL_PATH}${skillKey}`,
      skillKey,
      fallbackText: channel.fallbackText,
      defaultFallbackText: KAKAO_TEXTS.fallback,
    };
  }
}
