import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Env shared by every service, parsed once. Service configs extend it. */
export interface CoreConfig {
  /** One AMQP URL or a comma-separated list of a cluster's nodes; BrokerConnection reads the list (broker/src/broker-nodes.ts). */
  amqpUrl: string;
  databaseUrl: string;
  /** Prefix of every broker name (`kb`; tests use one per file). */
  brokerPrefix: string;
  secretsKey: Buffer;
  egressAllow: string[];
  logLevel: string;
}

export class ConfigError extends Error {
  readonly code = 'KB_ERR_CONFIG';
}

type Env = Record<string, string | undefined>;

export function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

export function int(env: Env, name: string, fallback: number, min = 0, max = 65535): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return n;
}

export function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Repository root (where `.data/` lives), found from this file. */
export const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), '../../..');

/**
 * SECRETS_KEY: 32 bytes as 64 hex chars or Base64. When unset, a key is
 * generated once into `.data/secrets.key` (mode 600) and reused.
 */
export function loadSecretsKey(env: Env): Buffer {
  const raw = env.SECRETS_KEY ?? '';
  if (raw) return parseKey(raw, 'SECRETS_KEY');
  const file = env.SECRETS_KEY_FILE || resolve(repoRoot, '.data/secrets.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return parseKey(readFileSync(file, 'utf8').trim(), file);
}

function parseKey(raw: string, source: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError(`${source} must be 32 bytes (64 hex characters or Base64)`);
  return key;
}

export function parseCoreConfig(env: Env = process.env): CoreConfig {
  return {
    amqpUrl: str(env, 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'),
    databaseUrl: str(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/domaeka'),
    brokerPrefix: str(env, 'KB_BROKER_PREFIX', 'kb'),
    secretsKey: loadSecretsKey(env),
    egressAllow: list(env, 'EGRESS_ALLOW'),
    logLevel: str(env, 'LOG_LEVEL', 'info'),
  };
}
