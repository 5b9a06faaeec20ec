import { createHash, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerCallPayload, RunnerProfile, RunnerResultPayload } from '@domaeka/broker';
import { buildRunner, type Runner } from '../../services/runner/src/app.js';
import { parseRunnerConfig } from '../../services/runner/src/config.js';
import { LABELS } from '../../services/runner/src/docker/container-spec.js';
import { DockerEngine, type LabelledContainer } from '../../services/runner/src/docker/docker-engine.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { namesResolver } from '../support/resolver.js';
import { RpcCaller } from '../support/runner-rpc.js';
import { waitFor } from '../support/wait.js';
import { EGRESS_NAMES } from './programs/egress.js';
import type { Hostile } from './programs/shared.js';

const POOL_SIZE = 2;
const NORMAL = `
def handle_command(params):
    return {"text": "bystander ok " + params["raw_text"]}
`;
/** The dedicated bystander counts its calls in a module global: the count proves its interpreter was never restarted. */
const NORMAL_COUNTING = `
calls = 0
def handle_command(params):
    global calls
    calls += 1
    return {"text": f"bystander ok {params['raw_text']} #{calls}"}
`;

/**
 * The premium plan's limits (DESIGN.md section 5), as they are: every table
 * outcome holds at 512 MB too (e-dedicated.test.ts gives the memory rows
 * more time: filling 512 MB takes longer than 256 MB on a loaded machine).
 */
export const PREMIUM_PROFILE: RunnerProfile = { name: 'premium', memoryMb: 512, cpus: 1, timeoutMaxMs: 30_000, maxConcurrency: 4 };

export interface SuiteOptions {
  /** `dedicated`: every hostile program is a fresh premium tenant in its own long-lived container, the bystander too. */
  mode?: 'ephemeral' | 'dedicated';
}

/**
 * One security test file: its own database and broker prefix, its own
 * runner (in-process, own id, free-plan pool: 256 MB, 0.5 CPU) driven over
 * the runner RPC like services/runner/test/ephemeral.test.ts. For every
 * hostile program: its outcome from the table (`check`), no platform secret
 * anywhere in the answer (the canary of DESIGN.md section 9 sits in this
 * process's env, the runner's env and a database row), and another tenant's
 * normal call answered right after. At the end, `docker ps -a` of this
 * file's prefix shows only pool containers (and, in dedicated mode, the
 * live dedicated ones, each labelled with its tenant).
 *
 * Dedicated mode: each program runs as tenant `hostile-<i>` with mode
 * `dedicated` (premium limits); `goneAtAnswer` means that tenant's container
 * is gone when the answer arrives; the bystander is a dedicated tenant whose
 * one container must serve the whole file (a hostile tenant never disturbs
 * it); a settled runner holds its pool plus exactly `runner.dedicated()`'s
 * live containers.
 */
export function securitySuite(name: string, programs: Hostile[], opts: SuiteOptions = {}): void {
  const dedicated = opts.mode === 'dedicated';
  describe(`security${dedicated ? ' (dedicated)' : ''}: ${name}`, () => {
    let env: TestEnv;
    let runner: Runner;
    let caller: RpcCaller;
    const engine = new DockerEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
    const runnerId = `t-sec-${name}-${randomBytes(3).toString('hex')}`;
    const canary = `kbcanary${randomBytes(16).toString('hex')}`;
    let secrets: string[] = [];
    const observed: string[] = [];
    /** Dedicated mode: the bystander's container, fixed by its first call, and how many calls it answered. */
    let bystanderContainer: string | null = null;
    let bystanderCalls = 0;

    const mine = () => engine.listByLabels([`${LABELS.runner}=${runnerId}`]);
    const liveDedicated = () => runner.dedicated().filter((d): d is typeof d & { containerId: string } => d.containerId !== null);
    /**
     * Exactly the pool and, in dedicated mode, the live dedicated containers (each labelled with
     * its tenant), all running; null while anything else is there.
     */
    const onlyPoolAndLive = (cs: LabelledContainer[]): LabelledContainer[] | null => {
      if (!cs.every((c) => c.state === 'running')) return null;
      const pool = cs.filter((c) => c.labels[LABELS.role] === 'pool');
      if (pool.length !== POOL_SIZE) return null;
      const live = dedicated ? liveDedicated() : [];
      const others = cs.filter((c) => c.labels[LABELS.role] !== 'pool');
      if (others.length !== live.length) return null;
      const labelled = live.every((d) =>
        others.some((c) => c.id === d.containerId && c.labels[LABELS.role] === 'dedicated' && c.labels[LABELS.tenant] === d.tenantId),
      );
      return labelled ? cs : null;
    };
    /** Pool full and nothing else left: the next run starts from a known set of containers. */
    const settled = () =>
      waitFor(async () => (runner.poolReady() >= POOL_SIZE ? onlyPoolAndLive(await mine()) : null), {
        what: dedicated ? 'a full pool, the live dedicated containers and no leftovers' : 'a full pool and no leftovers',
        timeoutMs: 20_000,
        intervalMs: 25,
      });

    /** Same code, same version: a dedicated container keeps a module loaded from one call of a tenant to the next. */
    const payload = (tenantId: string, code: string, over: Partial<RunnerCallPayload> = {}) =>
      caller.callPayload({
        tenantId,
        code,
        ...(dedicated ? { mode: 'dedicated' as const, profile: PREMIUM_PROFILE, codeVersion: `1:${createHash('sha256').update(code).digest('hex').slice(0, 16)}` } : {}),
        ...over,
      });

    const assertNoSecret = (r: RunnerResultPayload, what: string) => {
      const all = JSON.stringify(r);
      for (const s of secrets) expect(all.includes(s), `${what}: a platform secret appeared in the answer`).toBe(false);
    };

    /** Another tenant's normal call: answered; in dedicated mode by its one container, state intact. */
    const bystander = async () => {
      const n = await caller.call(runner.queue, payload('bystander', dedicated ? NORMAL_COUNTING : NORMAL));
      expect(n.error, JSON.stringify(n.error)).toBeNull();
      assertNoSecret(n, 'bystander');
      if (!dedicated) return expect(n.result).toMatchObject({ type: 'text', text: 'bystander ok 날씨 화도읍' });
      bystanderCalls++;
      expect(n.result, 'the bystander kept its module state (never restarted)').toMatchObject({ type: 'text', text: `bystander ok 날씨 화도읍 #${bystanderCalls}` });
      const held = runner.dedicated().find((d) => d.tenantId === 'bystander')?.containerId ?? null;
      expect(held).not.toBeNull();
      bystanderContainer ??= held;
      expect(held, 'the bystander is still served by the same container').toBe(bystanderContainer);
      const labelled = await engine.listByLabels([`${LABELS.runner}=${runnerId}`, `${LABELS.tenant}=bystander`]);
      expect(labelled.map((c) => [c.id, c.state])).toEqual([[bystanderContainer, 'running']]);
    };

    beforeAll(async () => {
      process.env.KB_CANARY = canary;
      env = await createTestEnv(`security-${name}`, { KB_CANARY: canary });
      // The canary in the database too (a tenant's name).
      const db = new pg.Client({ connectionString: env.databaseUrl });
      await db.connect();
      try {
        await db.query('insert into tenants (id, name) values ($1, $2)', [randomUUID(), `canary tenant ${canary}`]);
      } finally {
        await db.end();
      }
      secrets = [canary, env.secretsKeyHex, env.databaseUrl, env.amqpUrl, env.brokerPrefix];
      runner = buildRunner(
        parseRunnerConfig({ ...env.env, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: String(POOL_SIZE), RUNNER_ID: runnerId }),
        // What a hostile tenant's DNS could answer for names on its own allowlist (no DNS here).
        { resolver: namesResolver(EGRESS_NAMES) },
      );
      await runner.start();
      caller = await RpcCaller.connect(env.amqpUrl);
    });

    afterAll(async () => {
      await caller?.close();
      await runner?.stop();
      await env?.cleanup();
      for (const line of observed) console.log(line);
    });

    for (const [i, h] of programs.entries()) {
      it(h.name, async () => {
        const hostile = `hostile-${i}`;
        const before = new Set((await settled()).map((c) => c.id));
        if (h.before) {
          const b = await caller.call(runner.queue, payload(h.before.tenantId, h.before.code));
          expect(b.ok, JSON.stringify(b.error)).toBe(true);
          for (const c of await settled()) before.add(c.id);
        }
        const started = Date.now();
        const r = await caller.call(runner.queue, payload(hostile, h.code, { timeoutMs: h.timeoutMs ?? 4000, ...(h.egress ? { egress: h.egress } : {}) }));
        const ms = Date.now() - started;
        observed.push(
          `[security${dedicated ? ' dedicated' : ''}] ${h.name} -> ${r.ok ? `ok: ${JSON.stringify(String(r.result?.text ?? '').slice(0, 100))}` : `${r.error?.code}: ${(r.error?.message ?? '').split('\n')[0]!.slice(0, 100)}`}${r.outputTruncated ? ' (output truncated)' : ''} [${ms} ms]`,
        );
        if (h.goneAtAnswer) {
          // Failures remove their container before answering.
          const now = await mine();
          if (dedicated) {
            expect(now.filter((c) => c.labels[LABELS.tenant] === hostile), "the hostile tenant's container is gone").toEqual([]);
            // It had one (the call ran in it) and holds none now.
            expect(runner.dedicated().find((d) => d.tenantId === hostile)).toMatchObject({ containerId: null, calls: 1 });
          } else {
            expect(now.filter((c) => c.state !== 'running' && c.state !== 'created')).toEqual([]);
            expect([...before].some((id) => !now.some((c) => c.id === id)), 'the used container is gone').toBe(true);
          }
        }
        h.check(r);
        assertNoSecret(r, h.name);
        expect(r.ok && r.result === null).toBe(false);

        // Another tenant right after: answered normally, host unaffected.
        await bystander();
      });
    }

    const leftovers = dedicated ? 'pool and live dedicated containers (each labelled with its tenant)' : 'pool containers';
    it(`afterwards: docker ps -a of this prefix shows only ${leftovers}, and a normal call is answered`, async () => {
      const byPrefix = () => engine.listByLabels([`${LABELS.prefix}=${env.brokerPrefix}`]);
      const left = await waitFor(async () => onlyPoolAndLive(await byPrefix()), { what: `only ${leftovers}`, timeoutMs: 20_000 });
      expect(left.every((c) => c.labels[LABELS.runner] === runnerId)).toBe(true);
      expect(left.filter((c) => c.labels[LABELS.role] === 'pool')).toHaveLength(POOL_SIZE);
      if (dedicated) {
        expect(left.filter((c) => c.labels[LABELS.role] === 'dedicated').map((c) => c.labels[LABELS.tenant]).sort()).toEqual(liveDedicated().map((d) => d.tenantId).sort());
        expect(liveDedicated().some((d) => d.tenantId === 'bystander')).toBe(true);
        await bystander();
      }
      const n = await caller.call(runner.queue, payload('bystander-final', NORMAL));
      expect(n.ok).toBe(true);
      expect(n.result).toMatchObject({ type: 'text', text: 'bystander ok 날씨 화도읍' });
    });
  });
}
