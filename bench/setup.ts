import { randomBytes } from 'node:crypto';
import { TenantClient } from '../test/support/tenant-client.js';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { names } from '@domaeka/broker';
import { dropDatabase, ensureDatabase, migrate } from '@domaeka/core';
import { AMQP_URL, adminDatabaseUrl, deleteBrokerNames } from '../test/support/env.js';
import { connectPhone, type Phone, type PhoneIdentity } from '../test/support/phone.js';
import { Platform, type ServiceName } from '../test/support/platform.js';
import type { BenchConfig } from './config.js';
import { startBenchStub, type BenchStub } from './stub.js';

/** The command every bench message calls: `bench <id>`. */
export const COMMAND = 'bench';

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
 * connected over TCP whose devices were approved through the API.
 */
export interface BenchEnv {
  tag: string;
  databaseUrl: string;
  brokerPrefix: string;
  platform: Platform;
  stub: BenchStub;
  phones: BenchPhone[];
  bot: { id: string; name: string };
  /** Broker queues on the path: analyze events wait in `dispatch`, replies in one queue per device. */
  queues: { dispatch: string; replies: string[] };
  /** Pids of the service children (for CPU accounting). */
  pids(): Partial<Record<ServiceName, number>>;
  metricsUrl(service: 'dispatcher' | 'gateway'): string;
  cleanup(): Promise<void>;
}

type Step = (msg: string) => void;

export async function setupBench(config: BenchConfig, say: Step): Promise<BenchEnv> {
  const tag = randomBytes(4).toString('hex');
  const databaseUrl = adminDatabaseUrl(`domaeka_bench_${tag}`);
  const brokerPrefix = `bench.${tag}`;
  const undo: (() => Promise<unknown>)[] = [];
  const phones: BenchPhone[] = [];
  let platform: Platform | null = null;
  let stub: BenchStub | null = null;

  const cleanup = async () => {
    for (const p of phones) p.phone.destroy();
    // Services first (they hold broker and database connections), then their names and database.
    if (platform) await platform.stopAll().catch((err) => say(`stopping services: ${String(err)}`));
    for (const u of undo.reverse()) await u().catch((err) => say(`cleanup: ${String(err)}`));
    undo.length = 0;
  };

  try {
    say(`database domaeka_bench_${tag}, broker prefix ${brokerPrefix}`);
    await ensureDatabase(databaseUrl);
    undo.push(() => dropDatabase(databaseUrl));
    await migrate(databaseUrl);
    undo.push(() => deleteBrokerNames(brokerPrefix));

    stub = await startBenchStub();
    const s = stub;
    undo.push(() => s.close());

    platform = await Platform.create({
      AMQP_URL,
      DATABASE_URL: databaseUrl,
      KB_BROKER_PREFIX: brokerPrefix,
      SECRETS_KEY: randomBytes(32).toString('hex'),
      EGRESS_ALLOW: `127.0.0.1:${stub.port}`,
      LOG_LEVEL: config.logLevel,
    });
    if (config.cpuProf.length) {
      for (const name of config.cpuProf) {
        if (!['api', 'gateway', 'dispatcher'].includes(name)) throw new Error(`--cpu-prof: unknown service "${name}"`);
        // One directory per service: tsx's module hooks run on a thread of their own, which writes a profile too (the small one).
        const dir = fileURLToPath(new URL(`./results/profiles/${tag}-${name}`, import.meta.url));
        mkdirSync(dir, { recursive: true });
        platform.nodeArgs[name as ServiceName] = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
      }
    }
    say('starting api, dispatcher, gateway (child processes)');
    await platform.startAll();
    const p = platform;

    const api = await TenantClient.signup({ port: p.ports.api }, `bench-${tag}@bench.example`, '벤치 상점');
    const bot = await api.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: `bench-${tag}` });
    await api.ok('POST', '/commands', { command: COMMAND, target: { type: 'http', url: `http://127.0.0.1:${stub.port}/command` } });

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
      tag,
      databaseUrl,
      brokerPrefix,
      platform: p,
      stub,
      phones,
      bot: { id: bot.id, name: bot.name },
      queues: { dispatch: names(brokerPrefix).dispatchQueue, replies: devices.map((d) => names(brokerPrefix).replyQueue(`dev.${d.id}`)) },
      pids: () => ({ api: p.pid('api'), gateway: p.pid('gateway'), dispatcher: p.pid('dispatcher') }),
      metricsUrl: (service) => `http://127.0.0.1:${p.healthPort(service)}/metrics`,
      cleanup,
    };
  } catch (err) {
    if (platform) for (const [name, lines] of platform.logs) if (lines.length) say(`--- ${name} (last lines)\n${lines.slice(-15).join('\n')}`);
    await cleanup();
    throw err;
  }
}

