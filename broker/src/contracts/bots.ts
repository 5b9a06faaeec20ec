/** What the operator decided about a phone or a room: only approved ones get replies. */
export type ApprovalStatus = 'pending' | 'approved' | 'blocked';

/** `GET /bots`, `GET /bots/:id`. */
export interface BotView {
  id: string;
  name: string;
  manualRoomApproval: boolean;
  isActive: boolean;
  createdAt: Date;
}

/** Only in the answers of `POST /bots` and `POST /bots/:id/rotate-secret`: never readable again. */
export interface BotSecret {
  id: string;
  name: string;
  secretKey: string;
  salt: string;
}

/** `GET /bots/:id/devices`: a phone the bot has seen (rows written by the gateway). */
export interface DeviceView {
  id: string;
  deviceKey: string;
  status: ApprovalStatus;
  clientType: string | null;
  clientVersion: string | null;
  ip: string | null;
  info: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  rttMs: number | null;
  /** What the phone reports with its pongs (total_memory, memory_usage in MB, memory_percent, ...). */
  monitoring: Record<string, unknown> | null;
  rejectedPackets: number;
}

/** `GET /bots/:id/rooms`: a room the bot has seen (rows written by the dispatcher). */
export interface RoomView {
  id: string;
  channelId: string;
  name: string;
  status: ApprovalStatus;
  isGroupChat: boolean;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/**
 * `POST /bots/:id/bridge-script-link`: a single-use link to the bot's
 * pre-filled bridge script, for the phone (the web app shows it as a QR
 * code). `path` is on the web app's origin; the token in it is the only
 * credential and is not kept by the server.
 */
export interface BridgeScriptLink {
  path: string;
  expiresAt: Date;
  ttlSeconds: number;
}
