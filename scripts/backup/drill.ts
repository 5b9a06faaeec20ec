import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { SecretBox, dropDatabase, loadSecretsKey } from '@domaeka/core';
import { migrate } from '@domaeka/migrations/migrate';
import { readManifest, restoreDatabase } from './restore.js';
import { rabbitmqctl, run, withDatabase } from './tools.js';

export interface DrillReport {
  ok: boolean;
  database: { restoredAs: string; tables: number; rows: number; differences: string[]; migrationsApplied: string[] };
  secrets: 'opened' | 'no sealed secret to open' | 'no key in the backup or SECRETS_KEY' | `failed: ${string}`;
  broker: { vhost: string; expectedQueues: number; importedQueues: number } | null;
  ms: number;
}

interface Definitions {
  queues?: { name: string; vhost: string }[];
  exchanges?: { name: string; vhost: string }[];
  bindings?: { source: string; destination: string; vhost: string }[];
}

/**
 * The restore drill: the backup restored into a scratch database of the
 * same server (`<name>_drill_<time>`), every table's rows compared with
 * the manifest, the migrations of this checkout run over it (an older
 * backup must take them), a sealed bot key opened with the backed-up key,
 * and the platform's queues, exchanges and bindings imported into a scratch
 * RabbitMQ vhost and counted. Everything scratch is removed at the end,
 * whatever happened; nothing live is touched.
 */
export async function restoreDrill(dir: string, serverUrl: string, opts: { brokerPrefix?: string; skipBroker?: boolean } = {}): Promise<DrillReport> {
  const started = Date.now();
  const manifest = await readManifest(dir);
  const stamp = Date.now().toString(36);
  const drillUrl = withDatabase(serverUrl, `${manifest.database.name.slice(0, 40)}_drill_${stamp}`);
  try {
    const restored = await restoreDatabase(dir, drillUrl);
    const migrationsApplied = await migrate(drillUrl);
    const secrets = await openOneSecret(dir, manifest.secretsKey?.file ?? null, drillUrl);
    const broker = opts.skipBroker || !manifest.broker ? null : await importBroker(join(dir, manifest.broker.file), opts.brokerPrefix ?? 'kb', `drill-${stamp}`);
    const rows = Object.values(restored.inventory.tables).reduce((a, b) => a + b, 0);
    const ok = restored.differences.length === 0 && !secrets.startsWith('failed') && (!broker || broker.importedQueues === broker.expectedQueues);
    return {
      ok,
      database: { restoredAs: new URL(drillUrl).pathname.slice(1), tables: Object.keys(restored.inventory.tables).length, rows, differences: restored.differences, migrationsApplied },
      secrets,
      broker,
      ms: Date.now() - started,
    };
  } finally {
    await dropDatabase(drillUrl).catch(() => undefined);
  }
}

async function openOneSecret(dir: string, keyFile: string | null, databaseUrl: string): Promise<DrillReport['secrets']> {
  let box: SecretBox;
  try {
    if (keyFile) box = new SecretBox(loadSecretsKey({ SECRETS_KEY: (await readFile(join(dir, keyFile), 'utf8')).trim() }));
    else if (process.env.SECRETS_KEY) box = new SecretBox(loadSecretsKey({ SECRETS_KEY: process.env.SECRETS_KEY }));
    else return 'no key in the backup or SECRETS_KEY';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ sealed: string }>('select secret_key_enc as sealed from bots limit 1');
    if (!rows[0]) return 'no sealed secret to open';
    box.open(rows[0].sealed);
    return 'opened';
  } catch (err) {
    return `failed: the backed-up key does not open the restored secrets (${(err as Error).message})`;
  } finally {
    await client.end();
  }
}

/** The platform's part of the definitions (names under the prefix, vhost `/`) into a new vhost; counted, then removed. */
async function importBroker(file: string, prefix: string, vhost: string): Promise<NonNullable<DrillReport['broker']>> {
  const defs = JSON.parse(await readFile(file, 'utf8')) as Definitions;
  const ours = (name: string) => name.startsWith(`${prefix}.`);
  const queues = (defs.queues ?? []).filter((q) => q.vhost === '/' && ours(q.name)).map((q) => ({ ...q, vhost }));
  const exchanges = (defs.exchanges ?? []).filter((e) => e.vhost === '/' && ours(e.name)).map((e) => ({ ...e, vhost }));
  const bindings = (defs.bindings ?? []).filter((b) => b.vhost === '/' && ours(b.source) && ours(b.destination)).map((b) => ({ ...b, vhost }));
  try {
    await run(rabbitmqctl(), ['-q', 'add_vhost', vhost]);
    // On standard input: the broker node runs as its own user and may not read our files.
    await run(rabbitmqctl(), ['-q', 'import_definitions'], {}, JSON.stringify({ vhosts: [{ name: vhost }], queues, exchanges, bindings }));
    const listed = await run(rabbitmqctl(), ['-q', 'list_queues', '-p', vhost, 'name']);
    const names = listed.split('\n').map((l) => l.trim()).filter((l) => l && l !== 'name');
    return { vhost, expectedQueues: queues.length, importedQueues: names.filter(ours).length };
  } finally {
    await run(rabbitmqctl(), ['-q', 'delete_vhost', vhost]).catch(() => undefined);
  }
}
