import { chmod, copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { GATEWAY_ROLE } from '@domaeka/tenant-data';
import { inventoryIn, type Inventory } from './inventory.js';
import { databaseName, libpq, rabbitmqctl, run } from './tools.js';

/** The backup directory's table of contents (`manifest.json`). */
export interface Manifest {
  format: 1;
  createdAt: string;
  database: { name: string; file: 'database.dump'; serverVersion: string };
  /** The cluster-wide roles the database's grants name (`kb_data_gateway`, one `t_...` per tenant schema). */
  roles: { file: 'roles.sql'; names: string[] };
  /** RabbitMQ's definitions (queues, exchanges, bindings, policies, users, vhosts); null when skipped. */
  broker: { file: 'broker.json'; queues: number; prefixQueues: number } | null;
  /** The key bot keys, salts, API headers and tenant secrets are sealed with; null when it was not found. */
  secretsKey: { file: 'secrets.key' } | null;
  /** Rows per table as the dump holds them (counted in pg_dump's own snapshot). */
  inventory: Inventory;
}

export interface BackupOptions {
  databaseUrl: string;
  /** A new (or empty) directory. */
  outDir: string;
  /** Skip the broker's definitions (no rabbitmqctl here). */
  skipBroker?: boolean;
  /** Broker prefix, to count the platform's own queues in the manifest. */
  brokerPrefix?: string;
  /** `.data/secrets.key` (what `npm start` generated), when SECRETS_KEY is not set in the environment. */
  secretsKeyPath?: string | null;
}

const ROLE_LINE = /^(CREATE ROLE|ALTER ROLE|GRANT) /;

/**
 * A whole-platform backup: the database (pg_dump, custom format, one
 * snapshot, tenant schemas included), the roles its grants name, the
 * broker's definitions, the secrets key, and a manifest with every table's
 * row count as dumped, which a restore is checked against.
 */
export async function backupPlatform(o: BackupOptions): Promise<Manifest> {
  await mkdir(o.outDir, { recursive: true, mode: 0o700 });
  if ((await readdir(o.outDir)).length) throw new Error(`${o.outDir} is not empty`);
  const { dbname, env } = libpq(o.databaseUrl);
  const client = new pg.Client({ connectionString: o.databaseUrl });
  await client.connect();
  let inventory: Inventory;
  let serverVersion: string;
  try {
    // The counts and the dump read the same snapshot: what the manifest says is what the file holds.
    await client.query('begin isolation level repeatable read read only');
    const { rows } = await client.query<{ snapshot: string; version: string }>(`select pg_export_snapshot() as snapshot, current_setting('server_version') as version`);
    serverVersion = rows[0]!.version;
    inventory = await inventoryIn(client);
    await run('pg_dump', ['--format=custom', `--snapshot=${rows[0]!.snapshot}`, `--file=${join(o.outDir, 'database.dump')}`, `--dbname=${dbname}`], env);
    await client.query('commit');
  } finally {
    await client.end();
  }
  await chmod(join(o.outDir, 'database.dump'), 0o600);
  const roles = await dumpRoles(o.databaseUrl, join(o.outDir, 'roles.sql'), inventory.tenantSchemas);
  const broker = o.skipBroker ? null : await dumpBroker(join(o.outDir, 'broker.json'), o.brokerPrefix ?? 'kb');
  const secretsKey = o.secretsKeyPath && (await exists(o.secretsKeyPath)) ? await copySecretsKey(o.secretsKeyPath, o.outDir) : null;
  const manifest: Manifest = {
    format: 1,
    createdAt: new Date().toISOString(),
    database: { name: databaseName(o.databaseUrl), file: 'database.dump', serverVersion },
    roles: { file: 'roles.sql', names: roles },
    broker,
    secretsKey,
    inventory,
  };
  await writeFile(join(o.outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return manifest;
}

/**
 * This database's roles as pg_dumpall writes them (attributes, memberships):
 * the gateway login and the roles of its tenant schemas, not those of other
 * databases of the cluster.
 */
async function dumpRoles(databaseUrl: string, file: string, tenantSchemas: string[]): Promise<string[]> {
  const ours = new Set([GATEWAY_ROLE, ...tenantSchemas]);
  const { dbname, env } = libpq(databaseUrl);
  const all = await run('pg_dumpall', ['--roles-only', `--dbname=${dbname}`], env);
  const names = new Set<string>();
  const lines = all.split('\n').filter((line) => {
    if (!ROLE_LINE.test(line)) return false;
    const words = line.replace(/;$/, '').split(/\s+/);
    // CREATE ROLE x / ALTER ROLE x WITH ... / GRANT x TO y [GRANTED BY z]: every role named must be ours (the grantor aside).
    const named = words[0] === 'GRANT' ? [words[1]!, words[3]!] : [words[2]!];
    if (!named.every((n) => ours.has(n))) return false;
    for (const n of named) names.add(n);
    return true;
  });
  await writeFile(file, lines.map((l) => l.replace(/ GRANTED BY \S+;$/, ';')).join('\n') + '\n', { mode: 0o600 });
  return [...names].sort();
}

async function dumpBroker(file: string, prefix: string): Promise<Manifest['broker']> {
  // To stdout, not a path: the broker node (its own user) would write the file, and cannot in a 0700 directory.
  const json = await run(rabbitmqctl(), ['-q', 'export_definitions', '-']);
  const defs = JSON.parse(json) as { queues?: { name: string }[] };
  await writeFile(file, json, { mode: 0o600 });
  const queues = defs.queues ?? [];
  return { file: 'broker.json', queues: queues.length, prefixQueues: queues.filter((q) => q.name.startsWith(`${prefix}.`)).length };
}

async function copySecretsKey(path: string, outDir: string): Promise<Manifest['secretsKey']> {
  await copyFile(path, join(outDir, 'secrets.key'));
  return { file: 'secrets.key' };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
