import { execFile } from 'node:child_process';
import { TenantClient } from '../support/tenant-client.js';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startStub, type Stub } from '../support/http-stub.js';
import type { Phone, ReceivedPacket } from '../support/phone.js';
import { Platform, type ServiceName } from '../support/platform.js';
import { liftDailyQuotas, liftRoomCallsInHand } from '../support/quotas.js';
import { waitFor } from '../support/wait.js';
import { ChaosPhone, EventTap, ReplyTracker } from './observers.js';

export { ChaosPhone, EventTap, ReplyTracker } from './observers.js';

/**
 * Shared rig of the chaos tests: the platform's api, dispatcher and gateway
 * as child processes on a test database and broker prefix of their own, a
 * tenant signed up over HTTP with one bot and the command `에코 <id>` (an
 * HTTP target on a local stub that answers `응답 <id>`), scripted phones
 * handshaken and approved, and the observers of ./observers.ts. With
 * `sandbox`, also the runner (started first: saving sandbox code lints it
 * there) and the tenant's Python command; its containers are listed by the
 * rig's broker prefix and removed at close.
 */

const execFileP = promisify(execFile);
export const SERVICES: ServiceName[] = ['api', 'dispatcher', 'gateway'];

/** The tenant's API: `에코 <id>` -> `응답 <id>` after `delayMs`, held while `hold` is set. Counts calls per id. */
export interface EchoStub extends Stub {
  calls: Map<string, number>;
  delayMs: number;
  hold: Promise<void> | null;
}

async function startEchoStub(delayMs: number): Promise<EchoStub> {
  const stub = (await startStub()) as EchoStub;
  stub.calls = new Map();
  stub.delayMs = delayMs;
  stub.hold = null;
  stub.on('/echo', (req, res) => {
    const id = String(req.json?.parameters?.[0] ?? '?');
    stub.calls.set(id, (stub.calls.get(id) ?? 0) + 1);
    void (async () => {
      if (stub.hold) await stub.hold;
      if (stub.delayMs > 0) await new Promise((r) => setTimeout(r, stub.delayMs)); // the tenant's own latency
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `응답 ${id}` }));
    })();
  });
  return stub;
}

/** A tenant driving the API process over real HTTP (session cookie). */

/** The runner as a child process and a sandbox command of the tenant (files 5 and 6). */
export interface SandboxRigOptions {
  /** Env of the first runner (RUNNER_ID, RUNNER_POOL_SIZE, ...). */
  runnerEnv: Record<string, string>;
  command: string;
  pattern: string;
  /** Python source with `handle_command(params)`. */
  code: string;
}

/** One sandbox container of this rig's broker prefix, as `docker ps -a` lists it. */
export interface SandboxContainer {
  id: string;
  runner: string;
  instance: string;
  role: string;
  state: string;
}

/**
 * Replies per room, for messages sent each into a room of its own
 * (`rig.sendInRoom`): an error reply carries no message id, but its room
 * says which message it answers.
 */
export class RoomReplies {
  readonly sentAt = new Map<string, number>();
  readonly replies = new Map<string, { text: string; at: number }[]>();

  watch(phone: Phone): void {
    phone.on('packet', (p: ReceivedPacket) => {
      const channel = String(p.data.channel_id ?? '');
      if (p.event !== 'messageResponse' || p.text === null || !channel.startsWith('room-')) return;
      const id = channel.slice('room-'.length);
      const list = this.replies.get(id) ?? [];
      list.push({ text: p.text, at: p.at });
      this.replies.set(id, list);
    });
  }

  of(id: string): { text: string; at: number }[] {
    return this.replies.get(id) ?? [];
  }

  answered(list: readonly string[]): number {
    return list.filter((id) => this.of(id).length > 0).length;
  }
}

export interface Rig {
  env: TestEnv;
  platform: Platform;
  stub: EchoStub;
  tenant: TenantClient;
  phones: ChaosPhone[];
  tracker: ReplyTracker;
  tap: EventTap;
  /** Replies per room of `sendInRoom`. */
  rooms: RoomReplies;
  /** Writes `text` into the room `방 <id>` (channel `room-<id>`, log id `chaos-<id>`), the phones taking turns. */
  sendInRoom(id: string, text: string): void;
  /** This rig's sandbox containers (any runner, any state). */
  containers(): Promise<SandboxContainer[]>;
  /** Sends ids round-robin over the phones at `ratePerSec` (all at once without a rate); `stop()` ends it early. */
  stream(ids: string[], ratePerSec?: number): { done: Promise<void>; stop(): void };
  ready(name: ServiceName): Promise<boolean>;
  /** Resolves once no queue of this rig (dispatch, replies) holds a message, ready or unacked: no more replies can come. */
  quiet(): Promise<void>;
  /** Sum of a Prometheus metric's samples on a service's /metrics whose line matches `name` (labels included). */
  metric(svc: ServiceName, name: RegExp): Promise<number>;
  /** Several sums from one scrape (counters read in two scrapes may move in between). */
  metrics<K extends string>(svc: ServiceName, names: Record<K, RegExp>): Promise<Record<K, number>>;
  /** Log lines of a service (all its runs) matching `re`. */
  logged(svc: ServiceName, re: RegExp): number;
  dumpLogs(): void;
  close(): Promise<void>;
}

/** At least `warn`: the tests read the services' warnings (e.g. a lost broker connection); more when TEST_LOG_LEVEL asks. */
function chaosLogLevel(): string {
  const asked = process.env.TEST_LOG_LEVEL ?? '';
  return ['trace', 'debug', 'info'].includes(asked) ? asked : 'warn';
}

export const ids = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => String(from + i));

export async function startRig(name: string, opts: { phones?: number; stubDelayMs?: number; sandbox?: SandboxRigOptions } = {}): Promise<Rig> {
  const stub = await startEchoStub(opts.stubDelayMs ?? 0);
  const env = await createTestEnv(`chaos-${name}`, { EGRESS_ALLOW: `127.0.0.1:${stub.port}`, LOG_LEVEL: chaosLogLevel() });
  await liftDailyQuotas(env.databaseUrl); // hundreds of calls a day: counted, never refused
  await liftRoomCallsInHand(env.databaseUrl); // 500 of one tenant's calls in flight on purpose: never answered busy
  const platform = await Platform.create(env.env);
  const tracker = new ReplyTracker();
  const phones: ChaosPhone[] = [];
  const rooms = new RoomReplies();
  let roomTurn = 0;
  const listContainers = async (): Promise<SandboxContainer[]> => {
    const format = ['{{.ID}}', ...['runner', 'runner-instance', 'role'].map((l) => `{{.Label "org.domaeka.${l}"}}`), '{{.State}}'].join('\t');
    const { stdout } = await execFileP('docker', ['ps', '-a', '--filter', `label=org.domaeka.prefix=${env.brokerPrefix}`, '--format', format]);
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [id, runner, instance, role, state] = l.split('\t') as [string, string, string, string, string];
        return { id, runner, instance, role, state };
      });
  };
  /** Sums of the metric lines matching each pattern, all from one scrape of the service's /metrics. */
  const scrape = async <K extends string>(svc: ServiceName, names: Record<K, RegExp>): Promise<Record<K, number>> => {
    const lines = (await (await fetch(`http://127.0.0.1:${platform.healthPort(svc)}/metrics`)).text()).split('\n').filter((l) => !l.startsWith('#'));
    const sum = (re: RegExp) => lines.filter((l) => re.test(l)).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    return Object.fromEntries(Object.entries<RegExp>(names).map(([k, re]) => [k, sum(re)])) as Record<K, number>;
  };
  const rig: Rig = {
    env,
    platform,
    stub,
    tenant: null as unknown as TenantClient,
    phones,
    tracker,
    tap: null as unknown as EventTap,
    rooms,
    sendInRoom(id, text) {
      const p = phones[roomTurn++ % phones.length]!;
      rooms.sentAt.set(id, Date.now());
      p.phone.sendMessage({ room: `방 ${id}`, channelId: `room-${id}`, text, logId: `chaos-${id}` });
    },
    containers: listContainers,
    stream(list, ratePerSec) {
      let stopped = false;
      let next = 0;
      const started = Date.now();
      const done = (async () => {
        while (!stopped && next < list.length) {
          const due = ratePerSec ? Math.min(list.length, Math.floor(((Date.now() - started) / 1000) * ratePerSec) + 1) : list.length;
          for (; next < due; next++) phones[next % phones.length]!.send(list[next]!);
          if (next < list.length) await new Promise((r) => setTimeout(r, 10)); // pacing the rate, not waiting on anything
        }
      })();
      return { done, stop: () => void (stopped = true) };
    },
    async ready(svc) {
      const r = await fetch(`http://127.0.0.1:${platform.healthPort(svc)}/readyz`).catch(() => null);
      return r?.status === 200;
    },
    async quiet() {
      const ours = `${env.brokerPrefix}.`;
      await waitFor(
        async () => {
          const { stdout } = await execFileP('rabbitmqctl', ['-q', 'list_queues', 'name', 'messages_ready', 'messages_unacknowledged']);
          const rows = stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((r) => r[0]!.startsWith(ours));
          const busy = rows.filter((r) => !r[0]!.endsWith('.dead') && !r[0]!.endsWith('.chaos.tap') && (r[1] !== '0' || r[2] !== '0'));
          return rows.length > 0 && busy.length === 0;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'broker queues empty' },
      );
    },
    async metric(svc, name) {
      return (await scrape(svc, { name })).name;
    },
    metrics: scrape,
    logged(svc, re) {
      return (platform.logs.get(svc) ?? []).filter((l) => re.test(l)).length;
    },
    dumpLogs() {
      for (const svc of opts.sandbox ? [...SERVICES, 'runner' as const] : SERVICES) console.log(`--- ${svc} (last lines)\n${(platform.logs.get(svc) ?? []).slice(-25).join('\n')}`);
    },
    async close() {
      for (const p of phones) if (p.generation > 0) p.phone.destroy();
      await rig.tap?.close();
      await platform.stopAll();
      // A runner killed -9 leaves its containers behind (a stopped runner removed its own).
      if (opts.sandbox) {
        const left = await listContainers().catch(() => []);
        if (left.length) await execFileP('docker', ['rm', '-f', ...left.map((c) => c.id)]).catch(() => undefined);
      }
      await stub.close();
      await env.cleanup();
    },
  };
  try {
    // The runner first: the API lints sandbox code through it when the command is saved.
    if (opts.sandbox) await platform.start('runner', opts.sandbox.runnerEnv);
    await platform.startAll();
    rig.tenant = await TenantClient.signup({ port: platform.ports.api }, `${name}@chaos.example`, '카오스 상점');
    const bot = await rig.tenant.ok('POST', '/bots', { name: `카오스-${name}-${randomBytes(3).toString('hex')}` });
    await rig.tenant.ok('POST', '/commands', { command: '에코', pattern: '^에코\\s+(\\S+)$', target: { type: 'http', url: stub.url('/echo') } });
    if (opts.sandbox) {
      const { command, pattern, code } = opts.sandbox;
      await rig.tenant.ok('POST', '/commands', { command, pattern, target: { type: 'sandbox', language: 'python', code } });
    }
    for (let i = 0; i < (opts.phones ?? 5); i++) {
      const p = new ChaosPhone(i, { botName: bot.name, deviceID: `chaos-phone-${i}`, secretKey: bot.secretKey, salt: bot.salt }, platform.ports.bridge, tracker);
      await p.connect();
      rooms.watch(p.phone);
      phones.push(p);
    }
    // A device row appears once the phone signed a packet (its pong to our first ping); then approve it.
    for (const p of phones) await rig.tenant.approveDevice(bot.id, p.identity.deviceID);
    // Every phone (and its room) answered once before the chaos starts.
    for (const p of phones) await p.answeredOnce();
    rig.tap = await EventTap.open(env);
    for (const p of phones) p.written.clear(); // the tap starts now: warm-ups are not the tests' business
    return rig;
  } catch (err) {
    rig.dumpLogs();
    await rig.close().catch(() => undefined);
    throw err;
  }
}

/** One line of JSON in the test output: what happened, for the record. */
export function report(scenario: string, data: Record<string, unknown>): void {
  console.log(`CHAOS ${JSON.stringify({ scenario, ...data })}`);
}
