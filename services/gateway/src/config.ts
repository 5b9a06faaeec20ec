import { readFileSync } from 'node:fs';
import { ConfigError, int, parseCoreConfig, str, type CoreConfig } from '@domaeka/core';
import type { CapLimits } from './session/connection-caps.js';

type Env = Record<string, string | undefined>;

/** Protocol limits and timers; bridge-v3.md fixes most of them. Connection caps: session/connection-caps.ts. */
export interface GatewayLimits extends CapLimits {
  /** A longer line is refused with an `error` packet and the connection closed. */
  maxLineBytes: number;
  /** A decoded chat text longer than this (characters) is dropped and logged. */
  maxTextChars: number;
  /** The handshake must arrive within this long after connecting. */
  handshakeTimeoutMs: number;
  pingIntervalMs: number;
  /**
   * After the handshake, a connection that has not sent a validly signed
   * packet within this long is closed (`SIGN_TIMEOUT`). Phones answer our
   * first ping, sent with the handshake's answer, with a signed pong at once.
   */
  signDeadlineMs: number;
  /** A connection that sends nothing for this long is closed. */
  idleTimeoutMs: number;
  /** Entries the replay cache keeps at most (memory bound). */
  replayCacheMax: number;
  /** Unconfirmed analyze publishes per connection before we stop reading its socket. */
  maxInflightPerConnection: number;
  /** How long an analyze event is held while the broker is away before it is given up (and logged). */
  publishHoldMs: number;
  /** Device rows (RTT, monitoring, rejected counters) are written at most this often. */
  deviceFlushMs: number;
  /** Protocol errors (garbage lines) tolerated on one connection before it is closed. */
  maxProtocolErrors: number;
  /** Bytes queued for a phone that does not read before it is dropped. */
  maxWriteBufferBytes: number;
  /** Unacked replies one device's consumer holds. */
  replyPrefetch: number;
}

export interface GatewayConfig extends CoreConfig {
  bridgeHost: string;
  bridgePort: number;
  httpHost: string;
  httpPort: number;
  /** PEM cert and key: when both are set the bridge port speaks TLS. */
  tls: { cert: Buffer; key: Buffer } | null;
  serverVersion: string;
  timezone: string;
  limits: GatewayLimits;
}

export const defaultLimits: GatewayLimits = {
  maxLineBytes: 1024 * 1024,
  maxTextChars: 65_000,
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  signDeadlineMs: 30_000,
  // Sized for DESIGN's target of 10,000+ phones on one gateway; reasons in the README ("Connection caps").
  maxConnections: 20_000,
  maxConnectionsPerIp: 500,
  maxUnsignedPerIp: 64,
  maxConnectionsPerBot: 100,
  idleTimeoutMs: 10 * 60_000,
  replayCacheMax: 200_000,
  maxInflightPerConnection: 256,
  publishHoldMs: 10 * 60_000,
  deviceFlushMs: 1000,
  maxProtocolErrors: 20,
  maxWriteBufferBytes: 16 * 1024 * 1024,
  replyPrefetch: 32,
};

export const SERVER_VERSION = 'domaeka-gateway/0.1.0';

export function parseGatewayConfig(env: Env = process.env): GatewayConfig {
  const certPath = str(env, 'BRIDGE_TLS_CERT', '');
  const keyPath = str(env, 'BRIDGE_TLS_KEY', '');
  if (Boolean(certPath) !== Boolean(keyPath)) throw new ConfigError('BRIDGE_TLS_CERT and BRIDGE_TLS_KEY must be set together');
  const big = 2 ** 31 - 1;
  return {
    ...parseCoreConfig(env),
    bridgeHost: str(env, 'BRIDGE_HOST', '0.0.0.0'),
    bridgePort: int(env, 'BRIDGE_PORT', 1490),
    // Ops port (health, readiness, metrics): loopback unless the operator names an interface (issue 13).
    httpHost: str(env, 'GATEWAY_HTTP_HOST', '127.0.0.1'),
    httpPort: int(env, 'GATEWAY_HTTP_PORT', 8081),
    tls: certPath ? { cert: readFileSync(certPath), key: readFileSync(keyPath) } : null,
    serverVersion: SERVER_VERSION,
    timezone: str(env, 'BRIDGE_TIMEZONE', 'Asia/Seoul'),
    limits: {
      ...defaultLimits,
      maxLineBytes: int(env, 'BRIDGE_MAX_LINE_BYTES', defaultLimits.maxLineBytes, 1024, 64 * 1024 * 1024),
      handshakeTimeoutMs: int(env, 'BRIDGE_HANDSHAKE_TIMEOUT_MS', defaultLimits.handshakeTimeoutMs, 100, big),
      pingIntervalMs: int(env, 'BRIDGE_PING_INTERVAL_MS', defaultLimits.pingIntervalMs, 100, big),
      signDeadlineMs: int(env, 'GATEWAY_SIGN_DEADLINE_MS', defaultLimits.signDeadlineMs, 100, big),
      maxConnections: int(env, 'GATEWAY_MAX_CONNECTIONS', defaultLimits.maxConnections, 1, big),
      maxConnectionsPerIp: int(env, 'GATEWAY_MAX_CONNECTIONS_PER_IP', defaultLimits.maxConnectionsPerIp, 1, big),
      maxUnsignedPerIp: int(env, 'GATEWAY_MAX_UNSIGNED_PER_IP', defaultLimits.maxUnsignedPerIp, 1, big),
      maxConnectionsPerBot: int(env, 'GATEWAY_MAX_CONNECTIONS_PER_BOT', defaultLimits.maxConnectionsPerBot, 1, big),
      idleTimeoutMs: int(env, 'BRIDGE_IDLE_TIMEOUT_MS', defaultLimits.idleTimeoutMs, 100, big),
      publishHoldMs: int(env, 'GATEWAY_PUBLISH_HOLD_MS', defaultLimits.publishHoldMs, 1000, big),
    },
  };
}
