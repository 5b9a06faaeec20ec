import { EntitySchema } from '@mikro-orm/core';
import type { ApprovalStatus } from '@domaeka/broker/contracts';
import { createdAtColumn, foreignKey } from './columns.js';

/** A chat room a bot has seen (`rooms`), keyed by KakaoTalk's channel id. */
export interface Room {
  id: string;
  botId: string;
  channelId: string;
  name: string;
  status: ApprovalStatus;
  isGroupChat: boolean;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export const Room = new EntitySchema<Room>({
  name: 'Room',
  tableName: 'rooms',
  uniques: [{ name: 'rooms_bot_id_channel_id_key', properties: ['botId', 'channelId'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    botId: foreignKey('Bot', 'rooms', 'bot_id', { deleteRule: 'cascade' }),
    channelId: { type: 'string', columnType: 'text', fieldName: 'channel_id' },
    name: { type: 'string', columnType: 'text' },
    status: { enum: true, items: ['pending', 'approved', 'blocked'], columnType: 'text' },
    isGroupChat: { type: 'boolean', fieldName: 'is_group_chat', default: true },
    firstSeenAt: createdAtColumn('first_seen_at'),
    lastSeenAt: createdAtColumn('last_seen_at'),
  },
});
