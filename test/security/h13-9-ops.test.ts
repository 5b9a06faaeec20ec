import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbitmqctlCommand } from '../../services/api/src/bots/broker-admin.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { Platform, type ServiceName } from '../support/platform.js';
import { TenantClient } from '../support/tenant-client.js';

/**
 * Issue 13, hole 9: the services' ops ports (health, readiness, Prometheus
 * metrics) listened on every interface; `rabbitmqctl add_user` carried the
 * bot server's password in its argv, where `ps` shows it to every local
 * user; deleting a bot left its bot-server RabbitMQ user able to log in.
 */
const execFileP = promisify(execFile);

interface Listener {
  address: string;
  loopback: boolean;
}

/** Every listening TCP socket on `port` in this network namespace, from the kernel's own tables. */
function listenersOn(port: number): Listener[] {
  const found: Listener[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // 0A: LISTEN
      const [hexAddr, hexPort] = cols[1]!.split(':') as [string, string];
      if (parseInt(hexPort, 16) !== port) continue;
      if (hexAddr.length === 8) {
        // IPv4, little-endian bytes.
        const bytes = hexAddr.match(/../g)!.map((b) => parseInt(b, 16)).reverse();
        found.push({ address: bytes.join('.'), loopback: bytes[0] === 127 });
      } else {
        found.push({ address: `[${hexAddr}]`, loopback: hexAddr === '00000000000000000000000001000000' });
      }
    }
  }
  return found;
}

/** Every process command line seen while `during` runs (a scan of /proc, as `ps` reads it). */
async function cmdlinesDuring<T>(during: () => Promise<T>): Promise<{ result: T; seen: Set<string> }> {
  const seen = new Set<string>();
  let done = false;
  const scan = (async () => {
    while (!done) {
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        try {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
          if (cmd) seen.add(cmd);
        } catch {
          // Gone between the listing and the read.
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  try {
    return { result: await during(), seen };
  } finally {
    done = true;
    await scan;
  }
}

async function brokerUsers(): Promise<string[]> {
  const { stdout } = await execFileP('rabbitmqctl', ['-q', 'list_users']);
  return stdout.split('\n').map((l) => l.split('\t')[0]!.trim()).filter(Boolean);
}

describe('hole 9: ops ports, broker passwords, broker users of deleted bots', () => {
  let env: TestEnv;
  let platform: Platform;
  let tenant: TenantClient;
  const made: string[] = [];

  beforeAll(async () => {
    env = await createTestEnv('h13-9');
    platform = await Platform.create({ ...env.env, RUNNER_POOL_SIZE: '0', RUNNER_ID: `h139-${randomUUID().slice(0, 8)}` });
    // Each service's own default bind address, as `npm start` gives it.
    delete platform.env.API_HOST;
    delete platform.env.RUNNER_HTTP_HOST;
    await platform.start('runner');
    await platform.startAll();
    tenant = await TenantClient.signup({ port: platform.ports.api }, 'ops@h13-9.example');
  });

  afterAll(async () => {
    await platform?.stopAll();
    const left = await brokerUsers().catch(() => [] as string[]);
    for (const u of made.filter((m) => left.includes(m))) await execFileP('rabbitmqctl', ['-q', 'delete_user', u]).catch(() => undefined);
    await env?.cleanup();
  });

  it('binds every ops port (health, readiness, metrics) and the API to loopback by default', async () => {
    const services: ServiceName[] = ['gateway', 'dispatcher', 'runner', 'api'];
    for (const service of services) {
      const listeners = listenersOn(platform.healthPort(service));
      expect(listeners.length, `${service} listens`).toBeGreaterThan(0);
      expect(
        listeners.filter((l) => !l.loopback).map((l) => l.address),
        `${service} on port ${platform.healthPort(service)}`,
      ).toEqual([]);
    }
    // Still answering where the operator's scraper on this host looks.
    const metrics = await fetch(`http://127.0.0.1:${platform.healthPort('gateway')}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_cpu_seconds_total');
  });

  it('builds rabbitmqctl argv without the password: it goes on standard input', () => {
    const password = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4';
    for (const op of ['add_user', 'change_password'] as const) {
      const cmd = rabbitmqctlCommand({ op, username: 'kb-bot-x', password });
      expect(cmd.args.join(' ')).not.toContain(password);
      expect(cmd.args).toEqual(['-q', op, 'kb-bot-x']);
      expect(cmd.stdin).toBe(`${password}\n`);
    }
    expect(rabbitmqctlCommand({ op: 'delete_user', username: 'kb-bot-x' })).toEqual({ args: ['-q', 'delete_user', 'kb-bot-x'], stdin: '' });
  });

  it('creates a bot server user whose password no process list ever shows, and which logs in', async () => {
    const bot = await tenant.ok<{ id: string }>('POST', '/bots', { name: `h139-${randomUUID().slice(0, 8)}` });
    const username = `kb-bot-${bot.id}`;
    made.push(username);
    const { result: grant, seen } = await cmdlinesDuring(() =>
      tenant.ok<{ username: string; password: string }>('POST', `/bots/${bot.id}/broker-user`),
    );
    expect(grant.username).toBe(username);
    // The scan did see rabbitmqctl at work on this user (else it proves nothing) ...
    const ctl = [...seen].filter((c) => c.includes(username));
    expect(ctl.some((c) => c.includes('add_user'))).toBe(true);
    // ... and never the password, in any process.
    expect([...seen].filter((c) => c.includes(grant.password))).toEqual([]);
    const conn = await amqp.connect(`amqp://${grant.username}:${encodeURIComponent(grant.password)}@127.0.0.1:5672`);
    await conn.close();

    // Rotating (calling again) takes the same path: the new password logs in, the old one no longer does.
    const { result: again, seen: seen2 } = await cmdlinesDuring(() =>
      tenant.ok<{ username: string; password: string }>('POST', `/bots/${bot.id}/broker-user`),
    );
    expect(again.password).not.toBe(grant.password);
    expect([...seen2].filter((c) => c.includes(again.password))).toEqual([]);
    const rotated = await amqp.connect(`amqp://${again.username}:${encodeURIComponent(again.password)}@127.0.0.1:5672`);
    await rotated.close();
    await expect(amqp.connect(`amqp://${grant.username}:${encodeURIComponent(grant.password)}@127.0.0.1:5672`)).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it('deleting a bot deletes its bot server user and reply queue; a bot without one deletes as before', async () => {
    const bot = await tenant.ok<{ id: string }>('POST', '/bots', { name: `h139-${randomUUID().slice(0, 8)}` });
    const grant = await tenant.ok<{ username: string; password: string; replyQueue: string }>('POST', `/bots/${bot.id}/broker-user`);
    made.push(grant.username);
    expect(await brokerUsers()).toContain(grant.username);

    expect((await tenant.call('DELETE', `/bots/${bot.id}`)).status).toBe(204);
    expect(await brokerUsers()).not.toContain(grant.username);
    await expect(amqp.connect(`amqp://${grant.username}:${encodeURIComponent(grant.password)}@127.0.0.1:5672`)).rejects.toThrow(/ACCESS_REFUSED|403/);
    const conn = await amqp.connect(env.amqpUrl);
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await expect(ch.checkQueue(grant.replyQueue)).rejects.toThrow(/NOT_FOUND|404/);
    } finally {
      await conn.close().catch(() => undefined);
    }

    // Never had a broker user: deleting it is not held up by the missing user.
    const plain = await tenant.ok<{ id: string }>('POST', '/bots', { name: `h139-${randomUUID().slice(0, 8)}` });
    expect((await tenant.call('DELETE', `/bots/${plain.id}`)).status).toBe(204);
    expect((await tenant.call('GET', `/bots/${plain.id}`)).status).toBe(404);
  });

  it('keeps the bot and says so when its broker user cannot be removed (the owner retries)', async () => {
    const bot = await tenant.ok<{ id: string }>('POST', '/bots', { name: `h139-${randomUUID().slice(0, 8)}` });
    const grant = await tenant.ok<{ username: string }>('POST', `/bots/${bot.id}/broker-user`);
    made.push(grant.username);
    // A second API on the same database whose broker administration fails (rabbitmqctl exits 1).
    const broken = await Platform.create({ ...env.env, RABBITMQCTL: '/bin/false' });
    try {
      await broken.start('api');
      const owner = await TenantClient.signup({ port: broken.ports.api }, 'other@h13-9.example');
      const own = await owner.ok<{ id: string }>('POST', '/bots', { name: `h139-${randomUUID().slice(0, 8)}` });
      const res = await owner.call<{ error: { code: string; message: string } }>('DELETE', `/bots/${own.id}`);
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('KB_ERR_BROKER_ADMIN');
      expect(res.body.error.message).toMatch(/^메시지 브로커/);
      expect((await owner.call('GET', `/bots/${own.id}`)).status).toBe(200);
    } finally {
      await broken.stopAll();
    }
    // Through the working API the same delete completes, and takes the user with it.
    expect((await tenant.call('DELETE', `/bots/${bot.id}`)).status).toBe(204);
    expect(await brokerUsers()).not.toContain(grant.username);
  });
});
