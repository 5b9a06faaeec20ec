import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup as migrateTemplate } from '../support/global-setup.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The template database (as for integration tests), and the web app built
 * when web/build is missing or older than web/src: a clean clone runs the
 * browser tests without a separate build step.
 */
export async function setup(): Promise<void> {
  await migrateTemplate();
  const r = spawnSync(process.execPath, ['web/build-if-stale.js'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`web build failed (exit ${r.status})`);
}
