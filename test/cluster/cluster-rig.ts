import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { names } from '@domaeka/broker';
import { ChaosPhone, ReplyTracker } from '../chaos/observers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { countingEcho, startStub, type Stub } from '../support/http-stub.js';
import { Platform, type ServiceName } from '../support/platform.js';
import { liftDailyQuotas, liftRoomCallsInHand } from '../support/quotas.js';
import { TenantClient } from '../support/tenant-client.js';
import { waitFor } from '../support/wait.js';
import { queuesOf, type NodeNumber } from './cluster.js';

/**
 * The platform against the cluster: api, dispatcher and gateway as child
 * processes whose AMQP_URL is the three nodes' list, a test database of
 * their own, a tenant with one bot and the command `에코 <id>` (an HTTP
 * target on a local stub answering `응답 <id>`), and scripted phones on the
 * gateway's TCP bridge, each answered once before the test starts.
 */
export const SERVICES: ServiceName[] = ['api', 'dispatcher', 'gateway'];
const execFileP = promisify(execFile);

export interface ClusterRig {
  env: TestEnv;
  platform: Platform;
  tracker: ReplyTracker;
  phones: ChaosPhone[];
  /** Calls the tenant's API got, per id. */
  calls: Map<string, number>;
  /** Sends ids round-robin over the phones at `ratePerSec`. */
  stream(ids: string[], ratePerSec: number): Promise<void>;
  ready(svc: ServiceName): Promise<boolean>;
  /** The node a service last said it connected to (`broker connected to host:port`), from its log. */
  brokerNode(svc: ServiceName): string | null;
  /** The admin page's broker line (GET /admin/broker): the API's own connection, as an operator sees it. */
  adminBroker(): Promise<{ status: string; node: string; attempts: number }>;
  /** How many times a service logged a lost broker connection. */
  lostConnections(svc: ServiceName): number;
  /** How many of a service's log lines match `re`. */
  logged(svc: ServiceName, re: RegExp): number;
  /** From a service's last lost connection to its next connect, by its own log's clock (ms; null if it has not). */
  reconnectGapMs(svc: ServiceName): number | null;
  /** Once no queue of this rig holds a message, ready or unacked (asked of node `via`): no more replies can come. */
  quiet(via: NodeNumber): Promise<void>;
  /** kb_api_logs rows per message id (`chaos-<id>`, through the outbox row of its event). */
  logRows(ids: readonly string[]): Promise<Map<string, number>>;
  /** For ids whose log rows are not one: each event of theirs (outbox row) and its kb_api_logs rows, to tell a second event from a second log of one event. */
  logRowDetail(ids: readonly string[]): Promise<{ logId: string; eventId: string; rows: number }[]>;
  /** Dead letters: in `<prefix>.dead` (asked of node `via`) and kept by the API in kb_dead_letters. */
  deadLettered(via: NodeNumber): Promise<number>;
  dumpLogs(): void;
  close(): Promise<void>;
}

/** Every service line as a JSON object (pino); lines that are not JSON are left out. */
function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

export async function startClusterRig(name: string, amqpUrls: string, opts: { phones?: number } = {}): Promise<ClusterRig> {
  const calls = new Map<string, number>();
  const stub: Stub = await startStub({ '/echo': countingEcho(calls) });
  // Info: the services' "broker connected to <node>" lines are what the test reads (a handful per run).
  const env = await createTestEnv(`cluster-${name}`, { AMQP_URL: amqpUrls, EGRESS_ALLOW: `127.0.0.1:${stub.port}`, LOG_LEVEL: 'info' });
  await liftDailyQuotas(env.databaseUrl);
  await liftRoomCallsInHand(env.databaseUrl);
  const platform = await Platform.create(env.env);
  const tracker = new ReplyTracker();
  const phones: ChaosPhone[] = [];
  const db = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  let tenant: TenantClient | null = null;

  const rig: ClusterRig = {
    env,
    platform,
    tracker,
    phones,
    calls,
    async stream(list, ratePerSec) {
      const started = Date.now();
      let next = 0;
      while (next < list.length) {
        const due = Math.min(list.length, Math.floor(((Date.now() - started) / 1000) * ratePerSec) + 1);
        for (; next < due; next++) phones[next % phones.length]!.send(list[next]!);
        if (next < list.length) await new Promise((r) => setTimeout(r, 10)); // pacing the rate, not waiting on anything
      }
    },
    async ready(svc) {
      const r = await fetch(`http://127.0.0.1:${platform.healthPort(svc)}/readyz`).catch(() => null);
      return r?.status === 200;
    },
    brokerNode(svc) {
      const connected = jsonLines(platform.logs.get(svc) ?? []).filter((l) => String(l.msg ?? '').startsWith('broker connected to '));
      return (connected.at(-1)?.node as string | undefined) ?? null;
    },
    adminBroker() {
      return tenant!.ok('GET', '/admin/broker');
    },
    reconnectGapMs(svc) {
      const lines = jsonLines(platform.logs.get(svc) ?? []);
      const lostAt = lines.findLastIndex((l) => String(l.msg ?? '').startsWith('broker connection lost'));
      const connected = lines.slice(lostAt + 1).find((l) => String(l.msg ?? '').startsWith('broker connected to '));
      return lostAt < 0 || !connected ? null : Number(connected.time) - Number(lines[lostAt]!.time);
    },
    lostConnections(svc) {
      return rig.logged(svc, /broker connection lost/);
    },
    logged(svc, re) {
      return (platform.logs.get(svc) ?? []).filter((l) => re.test(l)).length;
    },
    async quiet(via) {
      await waitFor(
        async () => {
          const rows = (await queuesOf(via, env.brokerPrefix)).filter((q) => !q.name.endsWith('.dead'));
          return rows.length > 0 && rows.every((q) => q.ready === 0 && q.unacked === 0);
        },
        { timeoutMs: 60_000, intervalMs: 500, what: 'broker queues empty' },
      );
    },
    async logRows(list) {
      const { rows } = await db.query<{ log_id: string; n: number }>(
        `select o.log_id, count(l.id)::int as n from kb_outbox o join kb_api_logs l on l.event_id = o.event_id
          where o.log_id = any($1) group by o.log_id`,
        [list.map((id) => `chaos-${id}`)],
      );
      return new Map(rows.map((r) => [r.log_id.slice('chaos-'.length), r.n]));
    },
    async logRowDetail(list) {
      const { rows } = await db.query<{ log_id: string; event_id: string; n: number }>(
        `select o.log_id, o.event_id::text, count(l.id)::int as n from kb_outbox o left join kb_api_logs l on l.event_id = o.event_id
          where o.log_id = any($1) group by o.log_id, o.event_id order by o.log_id`,
        [list.map((id) => `chaos-${id}`)],
      );
      return rows.map((r) => ({ logId: r.log_id, eventId: r.event_id, rows: r.n }));
    },
    async deadLettered(via) {
      const queued = (await queuesOf(via, env.brokerPrefix)).find((q) => q.name === names(env.brokerPrefix).deadQueue);
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from kb_dead_letters');
      return (queued ? queued.ready + queued.unacked : 0) + rows[0]!.n;
    },
    dumpLogs() {
      // Every line kept, in a file per service (the last 25 here): a failure after a node loss is read there.
      const dir = mkdtempSync(join(tmpdir(), `kb-cluster-${env.brokerPrefix}-`));
      for (const svc of SERVICES) {
        const lines = platform.logs.get(svc) ?? [];
        writeFileSync(join(dir, `${svc}.log`), lines.join('\n') + '\n');
        console.log(`--- ${svc} (last lines; all in ${dir}/${svc}.log)\n${lines.slice(-25).join('\n')}`);
      }
    },
    async close() {
      for (const p of phones) if (p.generation > 0) p.phone.destroy();
      await platform.stopAll();
      await db.end().catch(() => undefined);
      await stub.close();
      // Its broker names lived on the cluster, which the run removes whole; this drops the database.
      await env.cleanup();
    },
  };
  try {
    await platform.startAll();
    const email = `${name}@cluster.example`;
    tenant = await TenantClient.signup({ port: platform.ports.api }, email, '클러스터 상점');
    // An administrator too, for the admin page's broker line.
    await execFileP('npx', ['tsx', 'services/api/src/cli.ts', 'admin', email], { env: { ...process.env, ...platform.env } });
    const bot = await tenant.ok('POST', '/bots', { name: `클러스터-${name}-${randomBytes(3).toString('hex')}` });
    await tenant.ok('POST', '/commands', { command: '에코', pattern: '^에코\\s+(\\S+)$', target: { type: 'http', url: stub.url('/echo') } });
    for (let i = 0; i < (opts.phones ?? 5); i++) {
      const p = new ChaosPhone(i, { botName: bot.name, deviceID: `cluster-phone-${i}`, secretKey: bot.secretKey, salt: bot.salt }, platform.ports.bridge, tracker);
      await p.connect();
      phones.push(p);
    }
    for (const p of phones) await tenant.approveDevice(bot.id, p.identity.deviceID);
    for (const p of phones) await p.answeredOnce();
    return rig;
  } catch (err) {
    rig.dumpLogs();
    await rig.close().catch(() => undefined);
    throw err;
  }
}
