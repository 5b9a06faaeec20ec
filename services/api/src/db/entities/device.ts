import { EntitySchema } from '@mikro-orm/core';
import type { ApprovalStatus } from '@domaeka/broker/contracts';
import { createdAtColumn, foreignKey } from './columns.js';

/** A phone relaying a bot (`devices`), written by the gateway; `deviceKey` is the phone's deviceID. */
export interface Device {
  id: string;
  botId: string;
  deviceKey: string;
  status: ApprovalStatus;
  clientType: string | null;
  clientVersion: string | null;
  deviceIp: string | null;
  deviceInfo: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  lastRttMs: number | null;
  monitoring: Record<string, unknown> | null;
  rejectedPackets: number;
}

export const Device = new EntitySchema<Device>({
  name: 'Device',
  tableName: 'devices',
  uniques: [{ name: 'devices_bot_id_device_key_key', properties: ['botId', 'deviceKey'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    botId: foreignKey('Bot', 'devices', 'bot_id', { deleteRule: 'cascade' }),
    deviceKey: { type: 'string', columnType: 'text', fieldName: 'device_key' },
    status: { enum: true, items: ['pending', 'approved', 'blocked'], columnType: 'text', default: 'pending' },
    clientType: { type: 'string', columnType: 'text', fieldName: 'client_type', nullable: true },
    clientVersion: { type: 'string', columnType: 'text', fieldName: 'client_version', nullable: true },
    deviceIp: { type: 'string', columnType: 'text', fieldName: 'device_ip', nullable: true },
    deviceInfo: { type: 'string', columnType: 'text', fieldName: 'device_info', nullable: true },
    firstSeenAt: createdAtColumn('first_seen_at'),
    lastSeenAt: createdAtColumn('last_seen_at'),
    lastRttMs: { type: 'integer', fieldName: 'last_rtt_ms', nullable: true },
    monitoring: { type: 'json', columnType: 'jsonb', nullable: true },
    rejectedPackets: { type: 'integer', fieldName: 'rejected_packets', default: 0 },
  },
});
