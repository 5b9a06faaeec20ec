import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The extra Docker engines of scripts/cluster/docker-engines.sh, as the
 * tests drive them: engine N is its own dockerd on its own socket, data
 * root and containerd, with the sandbox image loaded, so runner N has an
 * engine of its own as on a machine of its own.
 */
const execFileP = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function run(args: string[], timeoutMs = 600_000): Promise<string[]> {
  const { stdout } = await execFileP('bash', [resolve(root, 'scripts/cluster/docker-engines.sh'), ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').filter(Boolean);
}

export const dockerEngines = {
  /** Starts engines 1..n (idempotent) with the sandbox image of the main engine; resolves with their DOCKER_HOSTs. */
  async start(n: number): Promise<string[]> {
    // The image the engines get is the main engine's: made current first (build.sh never rebuilds a current one).
    await execFileP('bash', [resolve(root, 'sandbox-image/build.sh')], { cwd: root, timeout: 1_200_000, maxBuffer: 64 * 1024 * 1024 });
    return run(['start', String(n)]);
  },
  hosts: (n: number) => run(['hosts', String(n)]),
  stop: () => run(['stop']),
};
