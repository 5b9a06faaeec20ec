import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, int, list, str, type CoreConfig } from '@domaeka/core';
import type { RunnerProfile } from '@domaeka/broker';
import { DEFAULT_CALLS_PER_RUN } from './store/store-grants.js';

type Env = Record<string, string | undefined>;

/** A limit profile whose pool is kept warm from the start (others get a pool on first use). */
export type PoolProfile = Pick<RunnerProfile, 'name' | 'memoryMb' | 'cpus'>;

export interface RunnerConfig extends Omit<CoreConfig, 'secretsKey'> {
  httpPort: number;
  httpHost: string;
  /** Names this runner's queue and labels its containers; unique per process unless set. */
  runnerId: string;
  /** `unix:///var/run/docker.sock`, `tcp://host:2375` or a socket path. */
  dockerHost: string;
  sandboxImage: string;
  /** Build the image (this checkout's sandbox-image/build.sh) when missing or stale. */
  buildImage: boolean;
  /** Calls taken at once (the call queue's prefetch): dedicated calls queue cheaply in the runner. */
  capacity: number;
  /** Calls one tenant may have waiting in its line at this runner (over its cap); beyond, answered KB_ERR_BUSY. */
  tenantQueueMax: number;
  /** Ephemeral runs at once: each holds a container. */
  ephemeralMax: number;
  /** Ready containers kept per limit profile. */
  poolSize: number;
  warmProfiles: PoolProfile[];
  /** Container-level limits every profile shares. */
  pidsLimit: number;
  nofile: number;
  tmpfsMb: number;
  heartbeatMs: number;
  /** Dedicated mode: a tenant's container goes after this long without a call. */
  dedicatedIdleMs: number;
  /** Dedicated containers kept at once (the least recently used idle one makes room). */
  dedicatedMax: number;
  /** Host directory under which each container gets its home (sockets; mounted read-only at /run/kb). */
  socketDir: string;
  /** How dedicated containers' runtimes talk to the runner: `unix` (default) or `stdio`. */
  dedicatedTransport: 'unix' | 'stdio';
  /** Reap every labelled container of this broker prefix not ours, without asking whether its runner lives. */
  reapAll: boolean;
  /** Store calls one run may make (`from domaeka import store`); beyond, KB_ERR_STORE_BUDGET. */
  storeCallsMax: number;
  /** How often expired store keys are swept (they read as missing at once; this frees their rows). */
  storeSweepMs: number;
  /**
   * Where tenant statements (`from domaeka import db`) connect: the login
   * role `kb_data_gateway` (services/tenant-data/README.md, "Defense in
   * depth"); null: the main `DATABASE_URL` connection, under each tenant's role.
   */
  tablesDatabaseUrl: string | null;
}

const PROFILE = /^([a-z0-9_-]{1,40}):(\d{2,6}):(\d+(?:\.\d+)?)$/;

/** `RUNNER_POOL_PROFILES=free:256:0.5,premium:512:1` (name:memoryMb:cpus). */
export function parseProfiles(raw: string): PoolProfile[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = PROFILE.exec(s);
      if (!m) throw new ConfigError(`RUNNER_POOL_PROFILES entry "${s}" is not name:memoryMb:cpus`);
      return { name: m[1]!, memoryMb: Number(m[2]), cpus: Number(m[3]) };
    });
}

/** Docker's own variable: unix:// and tcp:// forms, or a bare socket path. */
export function parseDockerHost(raw: string): { socketPath: string } | { host: string; port: number; protocol: 'http' } {
  if (raw.startsWith('unix://')) return { socketPath: raw.slice('unix://'.length) };
  if (raw.startsWith('/')) return { socketPath: raw };
  const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(raw);
  if (!m) throw new ConfigError(`DOCKER_HOST must be unix:///path or tcp://host:port, got "${raw}"`);
  return { host: m[1]!, port: Number(m[2]), protocol: 'http' };
}

export function parseRunnerConfig(env: Env = process.env): RunnerConfig {
  // Not parseCoreConfig: the runner holds no secrets key. Its database is the store's (tenant code's key-value store).
  return {
    amqpUrl: str(env, 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'),
    databaseUrl: str(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/domaeka'),
    brokerPrefix: str(env, 'KB_BROKER_PREFIX', 'kb'),
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    httpPort: int(env, 'RUNNER_HTTP_PORT', 8083),
    // Ops port (health, readiness, metrics): loopback unless the operator names an interface (issue 13).
    httpHost: str(env, 'RUNNER_HTTP_HOST', '127.0.0.1'),
    runnerId: str(env, 'RUNNER_ID', `${hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`),
    dockerHost: str(env, 'DOCKER_HOST', 'unix:///var/run/docker.sock'),
    sandboxImage: str(env, 'SANDBOX_IMAGE', 'domaeka-sandbox:latest'),
    buildImage: str(env, 'RUNNER_BUILD_IMAGE', '1') !== '0',
    capacity: int(env, 'RUNNER_CAPACITY', 64, 1, 1000),
    ephemeralMax: int(env, 'RUNNER_EPHEMERAL_MAX', 8, 1, 1000),
    tenantQueueMax: int(env, 'RUNNER_TENANT_QUEUE_MAX', 256, 0, 100_000),
    poolSize: int(env, 'RUNNER_POOL_SIZE', 2, 0, 100),
    warmProfiles: parseProfiles(str(env, 'RUNNER_POOL_PROFILES', 'free:256:0.5')),
    pidsLimit: int(env, 'RUNNER_PIDS_LIMIT', 64, 8, 100_000),
    nofile: int(env, 'RUNNER_NOFILE', 64, 16, 1_048_576),
    tmpfsMb: int(env, 'RUNNER_TMPFS_MB', 16, 1, 4096),
    heartbeatMs: int(env, 'RUNNER_HEARTBEAT_MS', 1000, 100, 10_000),
    reapAll: str(env, 'RUNNER_REAP_ALL', '0') === '1',
    dedicatedIdleMs: int(env, 'RUNNER_DEDICATED_IDLE_MS', 10 * 60_000, 100, 7 * 24 * 3_600_000),
    dedicatedMax: int(env, 'RUNNER_DEDICATED_MAX', 50, 1, 10_000),
    egressAllow: list(env, 'EGRESS_ALLOW'),
    socketDir: socketDir(str(env, 'RUNNER_SOCKET_DIR', join(tmpdir(), 'domaeka-runner'))),
    dedicatedTransport: oneOf(env, 'RUNNER_DEDICATED_TRANSPORT', ['unix', 'stdio'] as const, 'unix'),
    storeCallsMax: int(env, 'RUNNER_STORE_CALLS_MAX', DEFAULT_CALLS_PER_RUN, 1, 1_000_000),
    storeSweepMs: int(env, 'RUNNER_STORE_SWEEP_MS', 60_000, 50, 24 * 3_600_000),
    tablesDatabaseUrl: str(env, 'RUNNER_TABLES_DATABASE_URL', '') || null,
  };
}

/** A socket path is at most 107 bytes: the home adds ~50 (sandbox-home.ts). */
function socketDir(raw: string): string {
  if (!raw.startsWith('/')) throw new ConfigError(`RUNNER_SOCKET_DIR must be an absolute path, got "${raw}"`);
  if (raw.length > 50) throw new ConfigError(`RUNNER_SOCKET_DIR is too long for unix socket paths (${raw.length} > 50 characters)`);
  return raw.replace(/\/+$/, '') || '/';
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(env, name, fallback);
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}
