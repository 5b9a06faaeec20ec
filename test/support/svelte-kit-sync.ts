import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '../../web');

/**
 * web/tsconfig.json extends the one `svelte-kit sync` writes into
 * web/.svelte-kit, which a clean clone does not have: without it the web
 * app's unit tests cannot even be compiled. Written once, when missing.
 */
export function setup(): void {
  if (existsSync(resolve(web, '.svelte-kit/tsconfig.json'))) return;
  const r = spawnSync('npx', ['svelte-kit', 'sync'], { cwd: web, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`svelte-kit sync failed (exit ${r.status})`);
}
