import { setup as migratedTemplate } from '../support/global-setup.js';
import { cluster } from './cluster.js';

/**
 * The migrated template database (as every project), then the 3-node
 * cluster (about 40 s here); the cluster is stopped and its data removed
 * when the run ends. KB_CLUSTER_KEEP=1 leaves it running (to look at it).
 */
export async function setup(): Promise<() => Promise<void>> {
  await migratedTemplate();
  const started = Date.now();
  const urls = await cluster.start();
  console.log(`RabbitMQ cluster up in ${Date.now() - started} ms: ${urls}`);
  return async () => {
    if (process.env.KB_CLUSTER_KEEP !== '1') await cluster.stop();
  };
}
