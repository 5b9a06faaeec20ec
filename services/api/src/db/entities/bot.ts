import { EntitySchema } from '@mikro-orm/core';
import { createdAtColumn, foreignKey } from './columns.js';

/** A KakaoTalk bot (`bots`); names are unique platform-wide, key and salt sealed with SecretBox. */
export interface Bot {
  id: string;
  tenantId: string;
  name: string;
  /**
   * The name as compared (`nameKey`: NFKC, case-folded, ...), unique: a
   * look-alike of a taken name is taken. Null only for a bot registered
   * before the key existed whose key another, older bot already held.
   */
  nameKey: string | null;
  secretKeyEnc: string;
  saltEnc: string;
  manualRoomApproval: boolean;
  isActive: boolean;
  /** SHA-256 (hex) of the official channel's skill key (`POST /kakao/skill/:skillKey`); null until first shown. */
  kakaoSkillKeyHash: string | null;
  /** The same key sealed with SecretBox: the bot page shows the skill URL again. */
  kakaoSkillKeyEnc: string | null;
  /** The channel's answer to an utterance that matches no command; null: the default text. */
  kakaoFallbackText: string | null;
  createdAt: Date;
}

export const Bot = new EntitySchema<Bot>({
  name: 'Bot',
  tableName: 'bots',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { ...foreignKey('Tenant', 'bots', 'tenant_id'), index: 'bots_tenant_idx' },
    name: { type: 'string', columnType: 'text', unique: 'bots_name_key' },
    nameKey: { type: 'string', columnType: 'text', fieldName: 'name_key', nullable: true, unique: 'bots_name_key_key' },
    secretKeyEnc: { type: 'string', columnType: 'text', fieldName: 'secret_key_enc', hidden: true },
    saltEnc: { type: 'string', columnType: 'text', fieldName: 'salt_enc', hidden: true },
    manualRoomApproval: { type: 'boolean', fieldName: 'manual_room_approval', default: false },
    isActive: { type: 'boolean', fieldName: 'is_active', default: true },
    kakaoSkillKeyHash: { type: 'string', columnType: 'text', fieldName: 'kakao_skill_key_hash', nullable: true, hidden: true, unique: 'bots_kakao_skill_key_hash_key' },
    kakaoSkillKeyEnc: { type: 'string', columnType: 'text', fieldName: 'kakao_skill_key_enc', nullable: true, hidden: true },
    kakaoFallbackText: { type: 'string', columnType: 'text', fieldName: 'kakao_fallback_text', nullable: true },
    createdAt: createdAtColumn('created_at'),
  },
});
