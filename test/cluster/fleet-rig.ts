import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PlatformMetrics } from '@domaeka/broker/contracts';
import { ChaosPhone, EventTap, ReplyTracker } from '../chaos/observers.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { countingEcho, startStub, type Stub } from '../support/http-stub.js';
import { Platform, type ServiceName } from '../support/platform.js';
import { liftDailyQuotas, liftRoomCallsInHand } from '../support/quotas.js';
import { TenantClient } from '../support/tenant-client.js';
import { waitFor } from '../support/wait.js';
import { dockerEngines } from './docker-engines.js';

/**
 * N of everything on one machine (issue 18 item 2), as real processes on
 * the system broker and a test database of their own: three "sites"
 * (a Platform each: its own ports), site 1 with api, gateway, dispatcher
 * and runner 1, site 2 with gateway, dispatcher and runner 2, site 3 with
 * runner 3; runner N on Docker engine N (scripts/cluster/docker-engines.sh).
 * Premium tenants (dedicated containers), each with one bot, the commands
 * `에코 <id>` (HTTP stub) and `파이썬 <id>` (its Python), both answering
 * `응답 <id>`, and two phones: one on each gateway.
 */
export const SITES = [1, 2, 3] as const;
export type Site = (typeof SITES)[number];
const execFileP = promisify(execFile);

/** Module state in the tenant's dedicated container: a new container starts again at 1. */
const PYTHON = `
calls = 0

def handle_command(params):
    global calls
    calls += 1
    return "응답 " + params["parameters"][0]
`;

export interface FleetTenant {
  email: string;
  tenantId: string;
  client: TenantClient;
  phones: ChaosPhone[];
}

export interface FleetRig {
  env: TestEnv;
  sites: Record<Site, Platform>;
  tracker: ReplyTracker;
  tap: EventTap;
  tenants: FleetTenant[];
  phones: ChaosPhone[];
  runnerIds: Record<Site, string>;
  /** The platform's admin view (GET /admin/metrics), as an operator sees it. */
  metrics(): Promise<PlatformMetrics>;
  /** Tenant id -> the runner ids whose heartbeat says they hold its dedicated container (ops view). */
  placement(): Promise<Map<string, string[]>>;
  /** Tenant ids with a dedicated container on engine `site` (its labels), running. */
  containersOn(site: Site): Promise<string[]>;
  ready(site: Site, svc: ServiceName): Promise<boolean>;
  /** kb_api_logs rows per message id (`chaos-<id>`), with their error codes. */
  logRows(ids: readonly string[]): Promise<Map<string, (string | null)[]>>;
  dumpLogs(): void;
  close(): Promise<void>;
}

export async function startFleetRig(name: string, opts: { tenants: number }): Promise<FleetRig> {
  const calls = new Map<string, number>();
  const stub: Stub = await startStub({ '/echo': countingEcho(calls) });
  const env = await createTestEnv(`cluster-${name}`, { EGRESS_ALLOW: `127.0.0.1:${stub.port}`, LOG_LEVEL: 'warn' });
  await liftDailyQuotas(env.databaseUrl);
  await liftRoomCallsInHand(env.databaseUrl);
  const sites = { 1: await Platform.create(env.env), 2: await Platform.create(env.env), 3: await Platform.create(env.env) } as Record<Site, Platform>;
  const hosts = await dockerEngines.hosts(SITES.length);
  const tag = randomBytes(3).toString('hex');
  const runnerIds = Object.fromEntries(SITES.map((s) => [s, `fleet-r${s}-${tag}`])) as Record<Site, string>;
  const db = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  const tracker = new ReplyTracker();
  const tenants: FleetTenant[] = [];
  const phones: ChaosPhone[] = [];
  /** Every phone made, also by a start that failed half-way (closed at the end). */
  const created: ChaosPhone[] = [];
  let ops: TenantClient | null = null;

  const labelled = async (site: Site, all: boolean) => {
    const format = `{{.ID}}\t{{.Label "org.domaeka.tenant"}}\t{{.Label "org.domaeka.role"}}`;
    const { stdout } = await execFileP('docker', ['-H', hosts[site - 1]!, 'ps', ...(all ? ['-a'] : []), '--filter', `label=org.domaeka.prefix=${env.brokerPrefix}`, '--format', format]);
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t') as [string, string, string]);
  };

  const rig: FleetRig = {
    env,
    sites,
    tracker,
    tap: null as unknown as EventTap,
    tenants,
    phones,
    runnerIds,
    metrics: () => ops!.ok<PlatformMetrics>('GET', '/admin/metrics'),
    async placement() {
      const m = await rig.metrics();
      const out = new Map<string, string[]>();
      for (const r of m.containers.byRunner) for (const t of r.dedicatedTenants ?? []) out.set(t, [...(out.get(t) ?? []), r.runnerId]);
      return out;
    },
    async containersOn(site) {
      return (await labelled(site, false)).filter(([, tenant, role]) => role === 'dedicated' && tenant).map(([, tenant]) => tenant);
    },
    async ready(site, svc) {
      const r = await fetch(`http://127.0.0.1:${sites[site].healthPort(svc)}/readyz`).catch(() => null);
      return r?.status === 200;
    },
    async logRows(list) {
      const { rows } = await db.query<{ log_id: string; error_code: string | null }>(
        `select o.log_id, l.error_code from kb_outbox o join kb_api_logs l on l.event_id = o.event_id where o.log_id = any($1)`,
        [list.map((id) => `chaos-${id}`)],
      );
      const out = new Map<string, (string | null)[]>();
      for (const r of rows) {
        const id = r.log_id.slice('chaos-'.length);
        out.set(id, [...(out.get(id) ?? []), r.error_code]);
      }
      return out;
    },
    dumpLogs() {
      const dir = mkdtempSync(join(tmpdir(), `kb-fleet-${env.brokerPrefix}-`));
      for (const site of SITES) {
        for (const [svc, lines] of sites[site].logs) {
          writeFileSync(join(dir, `${svc}-${site}.log`), lines.join('\n') + '\n');
          console.log(`--- ${svc} ${site} (last lines; all in ${dir}/${svc}-${site}.log)\n${lines.slice(-20).join('\n')}`);
        }
      }
    },
    async close() {
      for (const p of created) if (p.generation > 0) p.phone.destroy();
      await rig.tap?.close();
      await Promise.all(SITES.map((s) => sites[s].stopAll()));
      // A runner killed -9 leaves its containers on its engine (a stopped one removed its own).
      for (const site of SITES) {
        const left = (await labelled(site, true).catch(() => [])).map(([id]) => id);
        if (left.length) await execFileP('docker', ['-H', hosts[site - 1]!, 'rm', '-f', ...left]).catch(() => undefined);
      }
      await db.end().catch(() => undefined);
      await stub.close();
      await env.cleanup();
    },
  };

  try {
    // Runners first (saving sandbox code lints it on one), each on its own engine; the image is there already.
    await Promise.all(
      SITES.map((s) => sites[s].start('runner', { RUNNER_ID: runnerIds[s], DOCKER_HOST: hosts[s - 1]!, RUNNER_BUILD_IMAGE: '0', RUNNER_POOL_SIZE: '1' })),
    );
    await sites[1].start('api');
    await Promise.all([sites[1].start('dispatcher'), sites[2].start('dispatcher')]);
    await Promise.all([sites[1].start('gateway'), sites[2].start('gateway')]);

    // The operator: first signed up, made an administrator (as `npm run cli -- admin` does).
    ops = await TenantClient.signup({ port: sites[1].ports.api }, `ops-${name}@fleet.example`, '운영자');
    await db.query('update users set is_admin = true where email = $1', [`ops-${name}@fleet.example`]);
    let saving: Promise<unknown> = Promise.resolve();
    // The tenants side by side (sign-up hashing and the sandbox code's lint on the runners are most of the start).
    const made = await Promise.all(
      Array.from({ length: opts.tenants }, async (_, i): Promise<FleetTenant> => {
        const email = `t${i}-${name}@fleet.example`;
        const client = await TenantClient.signup({ port: sites[1].ports.api }, email, `상점 ${i}`);
        // Premium (dedicated containers) before its first message: no cache holds its plan yet.
        const { rows } = await db.query<{ tenant_id: string }>(`update tenants set plan_id = 'premium' where id = (select tenant_id from users where email = $1) returning id as tenant_id`, [email]);
        const bot = await client.ok('POST', '/bots', { name: `함대-${name}-${i}-${tag}` });
        await client.ok('POST', '/commands', { command: '에코', pattern: '^에코\\s+(\\S+)$', target: { type: 'http', url: stub.url('/echo') } });
        // A deadline that outlasts a move under load (the new runner cold-starts the moved tenants' containers at once).
        const python = { command: '파이썬', pattern: '^파이썬\\s+(\\S+)$', timeoutMs: 20_000, target: { type: 'sandbox', language: 'python', code: PYTHON } };
        // Saved one at a time: each save lints on a runner, and six lints at once on a loaded machine ran out of
        // their budget (503 KB_ERR_NO_RUNNER, "try again later": so a refused save is tried again, as a user would).
        const save = saving.then(() =>
          waitFor(async () => {
            const r = await client.call('POST', '/commands', python);
            if (r.status === 503) return null;
            if (r.status >= 300) throw new Error(`POST /commands -> ${r.status} ${JSON.stringify(r.body)}`);
            return r.body as unknown;
          }, { timeoutMs: 60_000, intervalMs: 500, what: 'the Python command saved' }),
        );
        saving = save.catch(() => undefined);
        await save;
        // Phone 2i on gateway 1, phone 2i+1 on gateway 2.
        const own = ([1, 2] as const).map((gw, k) => {
          const index = 2 * i + k;
          const p = new ChaosPhone(index, { botName: bot.name, deviceID: `fleet-phone-${index}`, secretKey: bot.secretKey, salt: bot.salt }, sites[gw].ports.bridge, tracker);
          created.push(p);
          return p;
        });
        for (const p of own) await p.connect();
        for (const p of own) await client.approveDevice(bot.id, p.identity.deviceID);
        return { email, tenantId: rows[0]!.tenant_id, client, phones: own };
      }),
    );
    tenants.push(...made);
    phones.push(...made.flatMap((t) => t.phones));
    // Every phone answered once over the HTTP command: path, caches and rooms ready.
    await Promise.all(phones.map((p) => p.answeredOnce()));
    rig.tap = await EventTap.open(env);
    for (const p of phones) p.written.clear();
    return rig;
  } catch (err) {
    rig.dumpLogs();
    await rig.close().catch(() => undefined);
    throw err;
  }
}

/** Which gateway site a phone is connected to now. */
export function gatewayOf(rig: FleetRig, p: ChaosPhone): Site {
  return SITES.find((s) => rig.sites[s].ports.bridge === p.bridgePort)!;
}
