import { setup as migratedTemplate } from '../support/global-setup.js';
import { cluster } from './cluster.js';
import { dockerEngines } from './docker-engines.js';

/** Docker engines of their own for the runners of multi-instance.test.ts (one per runner). */
export const ENGINES = 3;

/**
 * The migrated template database (as every project), then, side by side,
 * the 3-node RabbitMQ cluster (about 40 s here) and three extra Docker
 * engines with the sandbox image (about 30 s the first time, 2 s when up);
 * both are stopped and their data removed when the run ends.
 * KB_CLUSTER_KEEP=1 leaves them running (to look at them, or to run again fast).
 */
export async function setup(): Promise<() => Promise<void>> {
  await migratedTemplate();
  const started = Date.now();
  const [urls, hosts] = await Promise.all([cluster.start(), dockerEngines.start(ENGINES)]);
  console.log(`RabbitMQ cluster and Docker engines up in ${Date.now() - started} ms: ${urls}; ${hosts.join(' ')}`);
  return async () => {
    if (process.env.KB_CLUSTER_KEEP !== '1') await Promise.all([cluster.stop(), dockerEngines.stop()]);
  };
}
