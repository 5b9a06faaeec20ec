import { Migration } from '@mikro-orm/migrations';

/**
 * The bot's official KakaoTalk channel (issue 17): the platform answers as
 * the channel's Kakao i Open Builder skill server at
 * `POST /kakao/skill/<skillKey>`.
 *
 * - `bots.kakao_skill_key_hash`: SHA-256 (hex) of the bot's skill key, the
 *   only credential in the skill URL; unique, so a skill call finds its bot
 *   by one index look-up. `kakao_skill_key_enc`: the same key sealed with
 *   SECRETS_KEY, because the bot page shows the URL again (as Open Builder
 *   needs it pasted). Both null until the tenant first opens the channel
 *   section; a rotation replaces both.
 * - `bots.kakao_fallback_text`: what an utterance that matches no command
 *   gets on the channel (null: the default Korean text).
 * - `kb_api_logs.source`: where the call's message came from (`phone`,
 *   `http`, `ingress`, `kakao-skill`), shown in the logs and the live tail.
 *   Null for calls logged before it.
 */
export class Migration20261208000090_kakao_channel extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table bots add column kakao_skill_key_hash text, add column kakao_skill_key_enc text, add column kakao_fallback_text text;`);
    this.addSql(`alter table bots add constraint bots_kakao_skill_key_hash_key unique (kakao_skill_key_hash);`);
    this.addSql(`alter table kb_api_logs add column source text;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kb_api_logs drop column source;`);
    this.addSql(`alter table bots drop column kakao_skill_key_hash, drop column kakao_skill_key_enc, drop column kakao_fallback_text;`);
  }
}
