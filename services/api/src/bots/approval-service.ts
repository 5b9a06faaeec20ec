import type { ApprovalStatus, DeviceView, RoomView } from '@domaeka/broker/contracts';
import { Bot, Device, Room } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Em, Orm } from '../db/em.js';

/**
 * The phones and rooms a bot has seen (rows written by the gateway and the
 * dispatcher). Only approved ones get replies; the operator decides here.
 */
export class ApprovalService {
  constructor(
    private readonly orm: Orm,
    private readonly notifier: ChangeNotifier,
  ) {}

  async listDevices(caller: Caller, botId: string): Promise<DeviceView[]> {
    const em = this.orm.em.fork();
    await this.ownedBot(em, caller, botId);
    const rows = await em.find(Device, { botId }, { orderBy: { lastSeenAt: 'desc' } });
    return rows.map(toDeviceView);
  }

  /** `deviceKey` is the phone's own deviceID (what the operator sees in the app). */
  async setDeviceStatus(caller: Caller, botId: string, deviceKey: string, status: ApprovalStatus): Promise<DeviceView> {
    const em = this.orm.em.fork();
    await this.ownedBot(em, caller, botId);
    const device = await em.findOne(Device, { botId, deviceKey });
    if (!device) throw apiErrors.notFound('device');
    device.status = status;
    await em.flush();
    this.notifier.changed('device', caller.tenantId, botId);
    return toDeviceView(device);
  }

  async listRooms(caller: Caller, botId: string): Promise<RoomView[]> {
    const em = this.orm.em.fork();
    await this.ownedBot(em, caller, botId);
    const rows = await em.find(Room, { botId }, { orderBy: { lastSeenAt: 'desc' } });
    return rows.map(toRoomView);
  }

  async setRoomStatus(caller: Caller, botId: string, channelId: string, status: ApprovalStatus): Promise<RoomView> {
    const em = this.orm.em.fork();
    await this.ownedBot(em, caller, botId);
    const room = await em.findOne(Room, { botId, channelId });
    if (!room) throw apiErrors.notFound('room');
    room.status = status;
    await em.flush();
    this.notifier.changed('room', caller.tenantId, botId);
    return toRoomView(room);
  }

  private async ownedBot(em: Em, caller: Caller, botId: string): Promise<void> {
    if ((await em.count(Bot, { id: botId, tenantId: caller.tenantId })) === 0) throw apiErrors.notFound('bot');
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
