import type { ApprovalStatus, DeviceView, RoomView } from '@domaeka/broker/contracts';
import type { Device, Room } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { BotRepository } from './bot-repository.js';

/**
 * The phones and rooms a bot has seen (rows written by the gateway and the
 * dispatcher). Only approved ones get replies; the operator decides here.
 */
export class ApprovalService {
  private readonly bots: BotRepository;

  constructor(
    orm: Orm,
    private readonly notifier: ChangeNotifier,
  ) {
    this.bots = new BotRepository(orm);
  }

  async listDevices(caller: Caller, botId: string): Promise<DeviceView[]> {
    const rows = await this.bots.devices(caller.tenantId, botId);
    if (!rows) throw apiErrors.notFound('bot');
    return rows.map(toDeviceView);
  }

  /** `deviceKey` is the phone's own deviceID (what the operator sees in the app). */
  async setDeviceStatus(caller: Caller, botId: string, deviceKey: string, status: ApprovalStatus): Promise<DeviceView> {
    const device = await this.bots.setDeviceStatus(caller.tenantId, botId, deviceKey, status);
    if ('missing' in device) throw apiErrors.notFound(device.missing);
    this.notifier.changed('device', caller.tenantId, botId);
    return toDeviceView(device);
  }

  async listRooms(caller: Caller, botId: string): Promise<RoomView[]> {
    const rows = await this.bots.rooms(caller.tenantId, botId);
    if (!rows) throw apiErrors.notFound('bot');
    return rows.map(toRoomView);
  }

  async setRoomStatus(caller: Caller, botId: string, channelId: string, status: ApprovalStatus): Promise<RoomView> {
    const room = await this.bots.setRoomStatus(caller.tenantId, botId, channelId, status);
    if ('missing' in room) throw apiErrors.notFound(room.missing);
    this.notifier.changed('room', caller.tenantId, botId);
    return toRoomView(room);
  }
}

function toDeviceView(d: Device): DeviceView {
  return {
    id: d.id,
    deviceKey: d.deviceKey,
    status: d.status,
    clientType: d.clientType,
    clientVersion: d.clientVersion,
    ip: d.deviceIp,
    info: d.deviceInfo,
    firstSeenAt: d.firstSeenAt,
    lastSeenAt: d.lastSeenAt,
    rttMs: d.lastRttMs,
    monitoring: d.monitoring,
    rejectedPackets: d.rejectedPackets,
  };
}

function toRoomView(r: Room): RoomView {
  return {
    id: r.id,
    channelId: r.channelId,
    name: r.name,
    status: r.status,
    isGroupChat: r.isGroupChat,
    firstSeenAt: r.firstSeenAt,
    lastSeenAt: r.lastSeenAt,
  };
}
