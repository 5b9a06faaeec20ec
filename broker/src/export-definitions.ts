/**
 * Writes the contract for outsiders: `schemas/*.json` (JSON Schema of every
 * message) and `definitions.json` (RabbitMQ definitions of the topology, for
 * `rabbitmqctl import_definitions` or the management UI).
 * Usage: npm run export-schemas -w @domaeka/broker [-- <prefix>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messages } from './catalog.js';
import { topology } from './topology.js';

const prefix = process.argv[2] ?? 'kb';
const outDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

mkdirSync(resolve(outDir, 'schemas'), { recursive: true });
for (const def of Object.values(messages)) {
  const file = resolve(outDir, 'schemas', `${def.type}.v${def.version}.json`);
  writeFileSync(file, JSON.stringify(def.schema, null, 2) + '\n');
}

const t = topology(prefix);
const definitions = {
  exchanges: t.exchanges.map((e) => ({ name: e.name, vhost: '/', type: e.type, durable: true, auto_delete: false, internal: false, arguments: {} })),
  queues: t.queues.map((q) => ({ name: q.name, vhost: '/', durable: true, auto_delete: false, arguments: q.arguments })),
  bindings: t.bindings.map((b) => ({ source: b.exchange, vhost: '/', destination: b.queue, destination_type: 'queue', routing_key: b.routingKey, arguments: {} })),
};
writeFileSync(resolve(outDir, 'definitions.json'), JSON.stringify(definitions, null, 2) + '\n');
console.log(`wrote ${Object.keys(messages).length} schemas and definitions.json (prefix ${prefix})`);
