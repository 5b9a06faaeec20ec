import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { dropDatabase, ensureDatabase } from '@domaeka/core';

/**
 * The migrated template each test file clones, named by the migrations'
 * contents: a tree with other migrations (a branch, a second checkout running
 * its tests at the same time) gets a template of its own instead of dropping
 * and rebuilding the one another run is cloning from.
 */
export const TEMPLATE_DB = `domaeka_test_tpl_${migrationsDigest()}`;
const PG_BASE = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export function adminDatabaseUrl(db: string): string {
  return `${PG_BASE}/${db}`;
}

export interface TestEnv {
  name: string;
  databaseUrl: string;
  brokerPrefix: string;
  amqpUrl: string;
  secretsKeyHex: string;
  /** Env for a service started as a child process or parsed by a config function. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * A database cloned from the migrated template and a broker name prefix of
 * its own, so test files run in parallel without seeing each other.
 */
export async function createTestEnv(name: string, extraEnv: Record<string, string> = {}): Promise<TestEnv> {
  const tag = `${name.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = adminDatabaseUrl(`kbt_${tag}`);
  await ensureDatabase(databaseUrl, TEMPLATE_DB);
  const brokerPrefix = `t.${tag}`;
  const secretsKeyHex = randomBytes(32).toString('hex');
  const env = {
    AMQP_URL,
    DATABASE_URL: databaseUrl,
    KB_BROKER_PREFIX: brokerPrefix,
    SECRETS_KEY: secretsKeyHex,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...extraEnv,
  };
  return {
    name,
    databaseUrl,
    brokerPrefix,
    amqpUrl: AMQP_URL,
    secretsKeyHex,
    env,
    async cleanup() {
      await deleteBrokerNames(brokerPrefix).catch(() => undefined);
      await dropDatabase(databaseUrl).catch(() => undefined);
    },
  };
}

/** Deletes every queue and exchange named with this prefix (via rabbitmqctl-free listing of what we know). */
export async function deleteBrokerNames(prefix: string): Promise<void> {
  const { execFile } = await import('node:child_process');
  const list = (what: string) =>
    new Promise<string[]>((resolve) =>
      execFile('rabbitmqctl', ['-q', 'list_' + what, 'name'], (err, out) =>
        resolve(err ? [] : out.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(prefix + '.'))),
      ),
    );
  const [queues, exchanges] = await Promise.all([list('queues'), list('exchanges')]);
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    for (const e of exchanges) await ch.deleteExchange(e);
  } finally {
    await conn.close();
  }
}

function migrationsDigest(): string {
  const dir = fileURLToPath(new URL('../../migrations/', import.meta.url));
  const hash = createHash('sha256');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) hash.update(f).update(readFileSync(dir + f));
  return hash.digest('hex').slice(0, 16);
}
