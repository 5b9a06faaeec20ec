import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerResultPayload } from '@domaeka/broker';
import { buildRunner, type Runner } from '../../services/runner/src/app.js';
import { parseRunnerConfig } from '../../services/runner/src/config.js';
import { LABELS } from '../../services/runner/src/docker/container-spec.js';
import { DockerEngine } from '../../services/runner/src/docker/docker-engine.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { RpcCaller } from '../support/runner-rpc.js';
import { waitFor } from '../support/wait.js';
import type { Hostile } from './programs/shared.js';

const POOL_SIZE = 2;
const NORMAL = `
def handle_command(params):
    return {"text": "bystander ok " + params["raw_text"]}
`;

/**
 * One security test file: its own database and broker prefix, its own
 * runner (in-process, own id, free-plan profile: 256 MB, 0.5 CPU) driven
 * over the runner RPC like services/runner/test/ephemeral.test.ts. For every
 * hostile program: its outcome from the table (`check`), no platform secret
 * anywhere in the answer (the canary of DESIGN.md section 9 sits in this
 * process's env, the runner's env and a database row), and another tenant's
 * normal call answered right after. At the end, `docker ps -a` of this
 * file's prefix shows only pool containers.
 */
export function securitySuite(name: string, programs: Hostile[]): void {
  describe(`security: ${name}`, () => {
    let env: TestEnv;
    let runner: Runner;
    let caller: RpcCaller;
    const engine = new DockerEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
    const runnerId = `t-sec-${name}-${randomBytes(3).toString('hex')}`;
    const canary = `kbcanary${randomBytes(16).toString('hex')}`;
    let secrets: string[] = [];
    const observed: string[] = [];

    const mine = () => engine.listByLabels([`${LABELS.runner}=${runnerId}`]);
    /** Pool full and nothing else left: the next run starts from a known set of containers. */
    const settled = () =>
      waitFor(
        async () => {
          const cs = await mine();
          return runner.poolReady() >= POOL_SIZE && cs.length === POOL_SIZE && cs.every((c) => c.state === 'running') ? cs : null;
        },
        { what: 'a full pool and no leftovers', timeoutMs: 20_000, intervalMs: 25 },
      );

    const assertNoSecret = (r: RunnerResultPayload, what: string) => {
      const all = JSON.stringify(r);
      for (const s of secrets) expect(all.includes(s), `${what}: a platform secret appeared in the answer`).toBe(false);
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
        const before = new Set((await settled()).map((c) => c.id));
        if (h.before) {
          const b = await caller.call(runner.queue, caller.callPayload({ tenantId: h.before.tenantId, code: h.before.code }));
          expect(b.ok, JSON.stringify(b.error)).toBe(true);
          for (const c of await settled()) before.add(c.id);
        }
        const started = Date.now();
        const r = await caller.call(runner.queue, caller.callPayload({ tenantId: `hostile-${i}`, code: h.code, timeoutMs: h.timeoutMs ?? 4000 }));
        const ms = Date.now() - started;
        observed.push(
          `[security] ${h.name} -> ${r.ok ? `ok: ${JSON.stringify(String(r.result?.text ?? '').slice(0, 100))}` : `${r.error?.code}: ${(r.error?.message ?? '').split('\n')[0]!.slice(0, 100)}`}${r.outputTruncated ? ' (output truncated)' : ''} [${ms} ms]`,
        );
        if (h.goneAtAnswer) {
          // Failures remove their container before answering.
          const now = await mine();
          expect(now.filter((c) => c.state !== 'running' && c.state !== 'created')).toEqual([]);
          expect([...before].some((id) => !now.some((c) => c.id === id)), 'the used container is gone').toBe(true);
        }
        h.check(r);
        assertNoSecret(r, h.name);
        expect(r.ok && r.result === null).toBe(false);

        // Another tenant right after: answered normally, host unaffected.
        const n = await caller.call(runner.queue, caller.callPayload({ tenantId: 'bystander', code: NORMAL }));
        expect(n.error, JSON.stringify(n.error)).toBeNull();
        expect(n.result).toMatchObject({ type: 'text', text: 'bystander ok 날씨 화도읍' });
        assertNoSecret(n, 'bystander');
      });
    }

    it('afterwards: docker ps -a of this prefix shows only pool containers, and a normal call is answered', async () => {
      const byPrefix = () => engine.listByLabels([`${LABELS.prefix}=${env.brokerPrefix}`]);
      const left = await waitFor(
        async () => {
          const cs = await byPrefix();
          return cs.length === POOL_SIZE && cs.every((c) => c.state === 'running') ? cs : null;
        },
        { what: 'only pool containers', timeoutMs: 20_000 },
      );
      expect(left.map((c) => c.labels[LABELS.role])).toEqual(Array(POOL_SIZE).fill('pool'));
      expect(left.every((c) => c.labels[LABELS.runner] === runnerId)).toBe(true);
      const n = await caller.call(runner.queue, caller.callPayload({ tenantId: 'bystander-final', code: NORMAL }));
      expect(n.ok).toBe(true);
    });
  });
}
