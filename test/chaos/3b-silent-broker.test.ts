import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { Platform, type ServiceName } from '../support/platform.js';
import { SilentListener } from '../support/silent-listener.js';
import { TenantClient } from '../support/tenant-client.js';
import { waitFor } from '../support/wait.js';
import { report } from './support.js';

const execFileP = promisify(execFile);

/**
 * A broker that accepts TCP and never completes the AMQP handshake (seen
 * once after kill -9 of the dispatcher and the runner): every service,
 * started against it as `npm start` starts it, keeps running, answers
 * /healthz, answers /readyz 503 saying the handshake timed out, logs each
 * timed-out attempt, and becomes ready by itself once the listener forwards
 * to the real broker. The API serves meanwhile: its admin sees the broker
 * line (GET /admin/broker) say it is not connected and why.
 */
type BrokerView = { status: string; attempts: number; lastError: string | null; since: string };
const ALL: ServiceName[] = ['gateway', 'dispatcher', 'api', 'runner'];
const TIMED_OUT = /broker handshake timed out after \d+ ms/;

interface Readyz {
  status: string;
  checks: Record<string, boolean | string>;
}

describe('chaos: a broker that never completes the handshake', () => {
  let env: TestEnv;
  let listener: SilentListener;
  let platform: Platform;

  beforeAll(async () => {
    env = await createTestEnv('chaos-silent-broker', { LOG_LEVEL: 'warn' });
    listener = await SilentListener.start();
    platform = await Platform.create({ ...env.env, AMQP_URL: listener.urlFor(env.amqpUrl) });
  });
  afterAll(async () => {
    await platform?.stopAll();
    await listener?.close();
    const { stdout } = await execFileP('docker', ['ps', '-aq', '--filter', `label=org.domaeka.prefix=${env.brokerPrefix}`]).catch(() => ({ stdout: '' }));
    const left = stdout.split('\n').filter(Boolean);
    if (left.length) await execFileP('docker', ['rm', '-f', ...left]).catch(() => undefined);
    await env?.cleanup();
  });

  const readyz = async (svc: ServiceName): Promise<{ code: number; body: Readyz }> => {
    const r = await fetch(`http://127.0.0.1:${platform.healthPort(svc)}/readyz`);
    return { code: r.status, body: (await r.json()) as Readyz };
  };

  it('each service runs, answers /healthz, is not ready while the handshake times out, says so, and recovers by itself', async () => {
    onTestFailed(() => {
      for (const svc of ALL) console.log(`--- ${svc}\n${(platform.logs.get(svc) ?? []).slice(-20).join('\n')}`);
    });
    const started = Date.now();
    // Started against the silent listener: each answers /healthz (it does not hang at start).
    await Promise.all(ALL.map((svc) => platform.start(svc, svc === 'runner' ? { RUNNER_ID: `silent-${randomBytes(3).toString('hex')}`, RUNNER_POOL_SIZE: '1' } : {}, { until: 'healthy' })));
    const healthyMs = Date.now() - started;

    // Not ready, naming the reason, once the first attempt has timed out; and the log says so.
    const notReady: Record<string, Readyz> = {};
    for (const svc of ALL) {
      notReady[svc] = await waitFor(
        async () => {
          const r = await readyz(svc);
          return r.code === 503 && typeof r.body.checks.broker === 'string' && TIMED_OUT.test(r.body.checks.broker) ? r.body : null;
        },
        { timeoutMs: 45_000, intervalMs: 250, what: `${svc} /readyz saying the handshake timed out` },
      );
      expect(notReady[svc]!.status).toBe('not_ready');
      expect(notReady[svc]!.checks.broker).toMatch(/^connecting: broker handshake timed out after 10000 ms \(attempt \d+\)$/);
      expect((await fetch(`http://127.0.0.1:${platform.healthPort(svc)}/healthz`)).status).toBe(200);
      await waitFor(() => (platform.logs.get(svc) ?? []).some((l) => /broker handshake timed out after 10000 ms; retrying in \d+ ms/.test(l)), {
        what: `${svc} logging the timeout`,
      });
    }
    // The API serves while the broker is away: an administrator sees why it is not connected.
    const admin = await TenantClient.signup({ port: platform.ports.api }, 'silent-admin@chaos.example', '운영자');
    await execFileP('npx', ['tsx', 'services/api/src/cli.ts', 'admin', 'silent-admin@chaos.example'], { env: { ...process.env, ...platform.env } });
    const down = await admin.ok<BrokerView>('GET', '/admin/broker');
    expect(down).toMatchObject({ status: 'connecting', lastError: 'broker handshake timed out after 10000 ms' });
    expect(down.attempts).toBeGreaterThanOrEqual(1);

    // Each timed-out attempt dropped its socket: at most one attempt per service is open at a time.
    expect(listener.accepted).toBeGreaterThanOrEqual(ALL.length);
    expect(listener.open).toBeLessThanOrEqual(ALL.length);

    // The real broker answers again (the listener forwards): each becomes ready by itself.
    const openAtSwitch = listener.open; // the attempt in progress of each service
    const forwardedAt = Date.now();
    listener.forwardTo(env.amqpUrl);
    for (const svc of ALL) {
      await waitFor(async () => (await readyz(svc)).code === 200, { timeoutMs: 45_000, intervalMs: 250, what: `${svc} ready after the broker answered` });
    }
    const readyMs = Date.now() - forwardedAt;
    const up = await admin.ok<BrokerView>('GET', '/admin/broker');
    expect(up).toMatchObject({ status: 'connected', attempts: 0, lastError: expect.stringMatching(/./) });
    const timeouts = Object.fromEntries(ALL.map((svc) => [svc, (platform.logs.get(svc) ?? []).filter((l) => TIMED_OUT.test(l)).length]));
    report('silent-broker', { healthyMs, accepted: listener.accepted, openAtSwitch, timeoutsLogged: timeouts, readyMs, notReady });
    for (const svc of ALL) expect(timeouts[svc]).toBeGreaterThanOrEqual(1);
  });
});
