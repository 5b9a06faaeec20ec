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

/** `GET /bots/pending-devices`: a phone of one of the tenant's bots that waits for approval (the top menu's badge). */
export interface PendingDeviceView {
  botId: string;
  botName: string;
  deviceKey: string;
  info: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** `GET /bots/:id/connection`: whether a phone of the bot is connected now (the bot page's connection step). */
export interface BotConnectionView {
  /** A phone of the bot was heard from within the last 90 s (three of the gateway's 30 s pings). */
  online: boolean;
  /** The phone heard from last, if any. */
  latest: { deviceKey: string; status: ApprovalStatus; lastSeenAt: Date } | null;
}
