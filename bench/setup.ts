import { randomBytes } from 'node:crypto';
import { TenantClient } from '../test/support/tenant-client.js';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { names } from '@domaeka/broker';
import { dropDatabase, ensureDatabase } from '@domaeka/core';
import { migrate } from '@domaeka/migrations/migrate';
import { AMQP_URL, adminDatabaseUrl, deleteBrokerNames } from '../test/support/env.js';
import { connectPhone, type Phone, type PhoneIdentity } from '../test/support/phone.js';
import { Platform, type ServiceName } from '../test/support/platform.js';
import { liftDailyQuotas, liftRoomCallsInHand } from '../test/support/quotas.js';
import { PHONE_SCENARIOS, RUNNER_SCENARIOS, type BenchConfig } from './config.js';
import { removeContainersOf } from './containers.js';
import { startBenchStub, type BenchStub } from './stub.js';

/** The command every HTTP-scenario message calls: `bench <id>`. */
export const COMMAND = 'bench';

/** The sandbox scenarios' command (`sbench <id>`): tenant Python answering what the stub answers. */
export const SANDBOX_COMMAND = 'sbench';
export const SANDBOX_CODE = `def handle_command(params):
    words = str(params.get("raw_text") or "").split()
    return "ok " + (words[1] if len(words) > 1 else "?")
`;

/** Ready containers per profile the bench's runner keeps (sandbox-cold restarts it with 0). */
export const POOL_SIZE = 2;

/** Runner settings of the bench (the rest are the runner's defaults). */
function runnerEnv(config: BenchConfig): Record<string, string> {
  return {
    // Both plans' pools warm from the start, as a deployment runs them; sandbox-pooled waits for POOL_SIZE ready.
    RUNNER_POOL_PROFILES: 'free:256:0.5,premium:512:1',
    RUNNER_POOL_SIZE: String(POOL_SIZE),
    // The pool gauge on /metrics is refreshed with each heartbeat: sandbox-pooled waits on it between calls.
    RUNNER_HEARTBEAT_MS: '100',
    // dedicated-density holds its N tenants (and the bench tenant) at once, none evicted while it measures.
    ...(config.scenarios.includes('dedicated-density') ? { RUNNER_DEDICATED_MAX: String(config.tenants + 50), RUNNER_DEDICATED_IDLE_MS: String(3_600_000) } : {}),
  };
}

export interface BenchPhone {
  phone: Phone;
  deviceID: string;
  room: string;
  channelId: string;
}

/**
 * Everything a bench run stands on, built the way a tenant would build it:
 * its own database (created and migrated here, dropped at the end) and
 * broker prefix, the tenant's HTTP API (a stub on 127.0.0.1 that
 * EGRESS_ALLOW names), api + dispatcher + gateway as child processes, a
 * tenant signed up over HTTP with a bot and an HTTP command, and phones
 * connected over TCP whose devices were approved through the API. For the
 * sandbox scenarios also the runner as a child process, and (when they send
 * through phones) the tenant made premium and a sandbox command `sbench`.
 * Only the runner when no scenario needs phones.
 */
export interface BenchEnv {
  tag: string;
  databaseUrl: string;
  brokerPrefix: string;
  platform: Platform;
  stub: BenchStub;
  /** Empty when no scenario sends through phones (then only the runner runs, or nothing). */
  phones: BenchPhone[];
  /** The tenant's bot (its plan is premium when a sandbox scenario sends through phones); null without phones. */
  bot: { id: string; name: string } | null;
  /** The tenant's API session (schedule-lag makes its command and schedule with it); null without phones. */
  tenant: TenantClient | null;
  /** Whether the runner child runs (sandbox scenarios), and its id (it names the runner's call queue). */
  runner: boolean;
  runnerId(): string;
  /** Broker queues on the path: analyze events wait in `dispatch`, replies in one queue per device. */
  queues: { dispatch: string; replies: string[] };
  /** Pids of the service children (for CPU accounting). */
  pids(): Partial<Record<ServiceName, number>>;
  metricsUrl(service: 'dispatcher' | 'gateway' | 'runner'): string;
  /** Stops the runner and starts it again with these settings on top of the bench's (sandbox-cold: RUNNER_POOL_SIZE=0), under a new id. */
  restartRunner(extraEnv: Record<string, string>): Promise<void>;
  /** Makes a tenant premium (dedicated mode) in the bench database. */
  makePremium(email: string): Promise<void>;
  cleanup(): Promise<void>;
}

type Step = (msg: string) => void;

/** `plans.room_calls_in_flight` of one plan lifted (the column is absent before issue 12: then nothing to lift). */
async function liftCallsInHand(databaseUrl: string, plan: string, say: Step): Promise<void> {
  if (await liftRoomCallsInHand(databaseUrl, [plan])) {
    say(`plan ${plan}: room calls in hand not capped (plans.room_calls_in_flight lifted, as the daily quotas are)`);
  }
}

/**
 * The Platform class of the tree whose services run: its own
 * test/support/platform.ts starts services/<name>/src/main.ts of that tree
 * (a baseline worktree of `--baseline`), or this checkout's.
 */
async function platformOf(root: string | null): Promise<typeof Platform> {
  if (!root) return Platform;
  const mod = (await import(pathToFileURL(join(root, 'test/support/platform.ts')).href)) as { Platform: typeof Platform };
  return mod.Platform;
}

/** Migrates the database with that tree's own migrations (its `npm run migrate`), so each side has the schema its code expects. */
async function migrateWith(root: string, databaseUrl: string): Promise<void> {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', existsSync(join(root, 'migrations/cli.ts')) ? 'migrations/cli.ts' : 'services/core/src/db/migrate-cli.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, AMQP_URL, SECRETS_KEY: process.env.SECRETS_KEY ?? randomBytes(32).toString('hex') },
    timeout: 120_000,
  });
}

/**
 * `onCleanup` gets the cleanup as soon as there is something to clean:
 * an interrupt while the services are still starting must stop them too
 * (else they outlive the bench, as a runner and a dispatcher once did,
 * refilling their sandbox pool for an hour).
 */
export async function setupBench(config: BenchConfig, say: Step, onCleanup?: (cleanup: () => Promise<void>) => void): Promise<BenchEnv> {
  const tag = randomBytes(4).toString('hex');
  const databaseUrl = adminDatabaseUrl(`domaeka_bench_${tag}`);
  const brokerPrefix = `bench.${tag}`;
  const undo: (() => Promise<unknown>)[] = [];
  const phones: BenchPhone[] = [];
  let platform: Platform | null = null;
  let stub: BenchStub | null = null;

  const withPhones = config.scenarios.some((s) => PHONE_SCENARIOS.includes(s));
  const withRunner = config.scenarios.some((s) => RUNNER_SCENARIOS.includes(s));
  const withSandboxCommand = config.scenarios.some((s) => RUNNER_SCENARIOS.includes(s) && PHONE_SCENARIOS.includes(s));

  const cleanup = async () => {
    for (const p of phones) p.phone.destroy();
    // Services first (they hold broker and database connections), then their names and database.
    if (platform) await platform.stopAll().catch((err) => say(`stopping services: ${String(err)}`));
    // The runner removes its containers when it stops; whatever it left (killed, a bug) goes too.
    if (withRunner) {
      const left = await removeContainersOf(brokerPrefix).catch(() => 0);
      if (left) say(`removed ${left} sandbox containers the runner left behind`);
    }
    for (const u of undo.reverse()) await u().catch((err) => say(`cleanup: ${String(err)}`));
    undo.length = 0;
  };
  onCleanup?.(cleanup);

  try {
    say(`database domaeka_bench_${tag}, broker prefix ${brokerPrefix}`);
    await ensureDatabase(databaseUrl);
    undo.push(() => dropDatabase(databaseUrl));
    if (config.root) await migrateWith(config.root, databaseUrl);
    else await migrate(databaseUrl);
    await liftDailyQuotas(databaseUrl); // thousands of calls a day: counted on the hot path, never refused
    // The bench measures the path, not the plan's cap on calls in hand (free: 8): at hundreds of msg/s one pause of
    // 50 ms puts more in hand and they would be answered busy. noisy-neighbour measures the caps: then nothing is lifted.
    if (!config.scenarios.includes('noisy-neighbour')) await liftCallsInHand(databaseUrl, withSandboxCommand ? 'premium' : 'free', say);
    undo.push(() => deleteBrokerNames(brokerPrefix));

    stub = await startBenchStub();
    const s = stub;
    undo.push(() => s.close());

    platform = await (await platformOf(config.root)).create({
      AMQP_URL,
      DATABASE_URL: databaseUrl,
      KB_BROKER_PREFIX: brokerPrefix,
      SECRETS_KEY: randomBytes(32).toString('hex'),
      EGRESS_ALLOW: `127.0.0.1:${stub.port}`,
      LOG_LEVEL: config.logLevel,
      // Every bench phone is one bot's, from 127.0.0.1 (--phones up to 1000): above the gateway's per-source and per-bot caps.
      GATEWAY_MAX_CONNECTIONS_PER_IP: '2000',
      GATEWAY_MAX_CONNECTIONS_PER_BOT: '2000',
    });
    if (config.cpuProf.length) {
      for (const name of config.cpuProf) {
        if (!['api', 'gateway', 'dispatcher', 'runner'].includes(name)) throw new Error(`--cpu-prof: unknown service "${name}"`);
        // One directory per service: tsx's module hooks run on a thread of their own, which writes a profile too (the small one).
        const dir = fileURLToPath(new URL(`./results/profiles/${tag}-${name}`, import.meta.url));
        mkdirSync(dir, { recursive: true });
        platform.nodeArgs[name as ServiceName] = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
      }
    }
    const p = platform;
    const makePremium = async (email: string) => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const r = await client.query(`update tenants set plan_id = 'premium' where id = (select tenant_id from users where email = $1)`, [email]);
        if (r.rowCount !== 1) throw new Error(`no tenant for ${email}`);
      } finally {
        await client.end();
      }
    };
    let runnerId = `bench-${tag}`;
    let lives = 1;
    const env = (): Omit<BenchEnv, 'phones' | 'bot' | 'queues' | 'tenant'> => ({
      tag,
      databaseUrl,
      brokerPrefix,
      platform: p,
      stub: s,
      runner: withRunner,
      runnerId: () => runnerId,
      pids: () => ({ api: p.pid('api'), gateway: p.pid('gateway'), dispatcher: p.pid('dispatcher'), runner: p.pid('runner') }),
      metricsUrl: (service) => `http://127.0.0.1:${p.healthPort(service)}/metrics`,
      restartRunner: async (extraEnv) => {
        await p.stop('runner');
        // A new id: callers forget the old one when its heartbeats stop, the new one is a different runner.
        runnerId = `bench-${tag}-${++lives}`;
        await p.start('runner', { ...runnerEnv(config), RUNNER_ID: runnerId, ...extraEnv });
      },
      makePremium,
      cleanup,
    });
    if (withRunner) {
      say('starting the runner (child process; sandbox image, Docker)');
      await p.start('runner', { ...runnerEnv(config), RUNNER_ID: runnerId });
    }
    if (!withPhones) return { ...env(), phones: [], bot: null, tenant: null, queues: { dispatch: names(brokerPrefix).dispatchQueue, replies: [] } };

    say('starting api, dispatcher, gateway (child processes)');
    await platform.startAll();

    const email = `bench-${tag}@bench.example`;
    const api = await TenantClient.signup({ port: p.ports.api }, email, '벤치 상점');
    // Premium (dedicated mode) before anything is sent, so no cache of the dispatcher ever holds the free plan.
    if (withSandboxCommand) await makePremium(email);
    const bot = await api.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: `bench-${tag}` });
    await api.ok('POST', '/commands', { command: COMMAND, target: { type: 'http', url: `http://127.0.0.1:${stub.port}/command` } });
    if (withSandboxCommand) await api.ok('POST', '/commands', { command: SANDBOX_COMMAND, target: { type: 'sandbox', language: 'python', code: SANDBOX_CODE } });

    say(`connecting ${config.phones} phones over TCP`);
    const identity = (deviceID: string): PhoneIdentity => ({ botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt });
    for (let i = 0; i < config.phones; i++) {
      const deviceID = `bench-phone-${String(i).padStart(3, '0')}`;
      const phone = await connectPhone('127.0.0.1', p.ports.bridge, { retain: false });
      phones.push({ phone, deviceID, room: `벤치방 ${i}`, channelId: `bench-${tag}-${i}` });
      await phone.handshake(identity(deviceID));
    }
    // The phone's signed pong to the gateway's first ping makes its connection count: the device row appears, pending.
    for (const x of phones) await api.approveDevice(bot.id, x.deviceID);
    const wanted = new Set(phones.map((x) => x.deviceID));
    const devices = (await api.ok<{ id: string; deviceKey: string }[]>('GET', `/bots/${bot.id}/devices`)).filter((d) => wanted.has(d.deviceKey));

    return {
      ...env(),
      phones,
      bot: { id: bot.id, name: bot.name },
      tenant: api,
      queues: { dispatch: names(brokerPrefix).dispatchQueue, replies: devices.map((d) => names(brokerPrefix).replyQueue(`dev.${d.id}`)) },
    };
  } catch (err) {
    if (platform) for (const [name, lines] of platform.logs) if (lines.length) say(`--- ${name} (last lines)\n${lines.slice(-15).join('\n')}`);
    await cleanup();
    throw err;
  }
}

