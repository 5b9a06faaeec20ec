import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';

/** Where a container finds its home directory: mounted read-only, so nothing in it comes from the container. */
export const HOME_MOUNT = '/run/kb';
/** The runtime's channel socket (dedicated containers: DESIGN.md section 5, sandbox-image/README.md "Transport"). */
export const RUNTIME_SOCKET = 'rt.sock';
/** The egress proxy (the runtime relays requests/urllib to it: KB_EGRESS_SOCKET). */
export const EGRESS_SOCKET = 'egress.sock';
/** The store (`from domaeka import store`: KB_DATA_SOCKET; services/runner/README.md "Store"). */
export const DATA_SOCKET = 'data.sock';

/**
 * A host directory of one container, mounted read-only at /run/kb: the
 * runner listens on unix sockets in it and the container connects. Only
 * the runner writes here (the container cannot: read-only mount), and the
 * runner never reads a path a container could have planted. The name is
 * 128 random bits and every directory on the way is 0711, so another host
 * user cannot find a socket to race the runtime's connection.
 */
export interface SandboxHome {
  /** Host path. */
  dir: string;
  /** Docker `Binds` entry. */
  bind: string;
  /** Host path of a socket named `name` in this home. */
  path(name: string): string;
  /** Removes the directory (after the container is gone). Never throws. */
  remove(): Promise<void>;
}

/**
 * Homes of one runner process: `<root>/<runner key>/<random>`, the runner
 * key a hash of (broker prefix, runner id) so a socket path stays far below
 * the 107 bytes a unix socket path may have.
 */
export class SandboxHomes {
  private readonly base: string;

  constructor(
    private readonly root: string,
    private readonly prefix: string,
    private readonly runnerId: string,
  ) {
    this.base = this.runnerDir(runnerId);
  }

  async create(): Promise<SandboxHome> {
    const dir = join(this.base, randomBytes(16).toString('base64url'));
    await mkdir(dir, { recursive: true, mode: 0o711 });
    // mkdir's mode is filtered by the umask; uid 1000 in the container needs traversal to reach a socket.
    await chmod(this.base, 0o711);
    await chmod(dir, 0o711);
    return {
      dir,
      bind: `${dir}:${HOME_MOUNT}:ro`,
      path: (name) => join(dir, name),
      remove: () => rm(dir, { recursive: true, force: true }).catch(() => undefined),
    };
  }

  /** Every home of a runner id: ours at start (earlier lives) and at stop, another's when the orphan reaper found it dead. */
  async removeRunner(runnerId = this.runnerId): Promise<void> {
    await rm(this.runnerDir(runnerId), { recursive: true, force: true }).catch(() => undefined);
  }

  private runnerDir(runnerId: string): string {
    return join(this.root, createHash('sha256').update(`${this.prefix}\0${runnerId}`).digest('hex').slice(0, 16));
  }
}

/**
 * Listens on a unix socket in a home (replacing a stale one), world-connectable:
 * the container's user (uid 1000) is not the runner's, and the home's 0711
 * directories are what keep other host users and containers from finding it.
 */
export async function listenInHome(server: Server, path: string): Promise<void> {
  await removeStaleSocket(path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o666);
}

/** A socket file left by an earlier runner blocks listen(); anything else at the path is not ours to delete. */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    const stat = await lstat(path);
    if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket`);
    await rm(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
