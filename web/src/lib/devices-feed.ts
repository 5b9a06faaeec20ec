import type { DevicePresenceEvent, Json } from '@domaeka/broker/contracts';
import { getSocket, keepJoined } from './socket';

/** What a page wants to hear about the tenant's phones. */
export interface DevicesListener {
  /** A phone connected or went away. */
  presence?(e: Json<DevicePresenceEvent>): void;
  /** A phone of this bot (null: of some bot) was approved or blocked, here or in another tab. */
  changed?(e: { botId: string | null }): void;
  /** In the room (again, after a reconnect: events of the gap were missed): read the state over REST. */
  joined?(): void;
}

const listeners = new Set<DevicesListener>();
let leave: (() => void) | null = null;

/**
 * The tenant's phones, live (the API's `devices` room: `device:presence`
 * from the gateways, `devices:changed` from approvals), shared by the top
 * menu's pending badge and the bot page's connection step: one join for
 * both. Returns the function that stops listening (the last one leaves).
 */
export function watchDevices(listener: DevicesListener): () => void {
  listeners.add(listener);
  if (!leave) {
    const socket = getSocket();
    const presence = (e: Json<DevicePresenceEvent>) => listeners.forEach((l) => l.presence?.(e));
    const changed = (e: { botId: string | null }) => listeners.forEach((l) => l.changed?.(e));
    socket.on('device:presence', presence);
    socket.on('devices:changed', changed);
    const stopJoining = keepJoined(socket, 'devices:join', {}, (ack) => {
      if (ack.ok) listeners.forEach((l) => l.joined?.());
    });
    leave = () => {
      socket.off('device:presence', presence);
      socket.off('devices:changed', changed);
      stopJoining();
      socket.emit('devices:leave');
    };
  } else if (getSocket().connected) {
    listener.joined?.();
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && leave) {
      leave();
      leave = null;
    }
  };
}
