import { execFile } from 'node:child_process';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';
import { LABELS } from '../src/docker/container-spec.js';
import { DockerEngine } from '../src/docker/docker-engine.js';
import { DATA_SOCKET } from '../src/sandbox/sandbox-home.js';

/** Helpers of the store tests: platform tenants, a container's data socket from the host, frames. */

const execFileP = promisify(execFile);

/** Tenants of the platform (the store keys rows by a real tenant id, with its foreign key). */
export async function makeTenants(databaseUrl: string, names: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const ids: string[] = [];
    for (const name of names) ids.push((await client.query<{ id: string }>('insert into tenants (id, name) values (gen_random_uuid(), $1) returning id', [name])).rows[0]!.id);
    return ids;
  } finally {
    await client.end();
  }
}

/** The host path of a container's data socket (its home is bound at /run/kb). */
export async function dataSocketOf(containerId: string): Promise<string> {
  const { stdout } = await execFileP('docker', ['inspect', '--format', '{{json .HostConfig.Binds}}', containerId]);
  const bind = (JSON.parse(stdout) as string[]).find((b) => b.endsWith(':/run/kb:ro'));
  if (!bind) throw new Error(`no /run/kb bind on ${containerId}`);
  return `${bind.slice(0, bind.indexOf(':'))}/${DATA_SOCKET}`;
}

export async function containersOf(runnerId: string, role: 'pool' | 'dedicated'): Promise<string[]> {
  const engine = new DockerEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
  return (await engine.listByLabels([`${LABELS.runner}=${runnerId}`])).filter((c) => c.labels[LABELS.role] === role).map((c) => c.id);
}

export function frame(body: unknown): Buffer {
  const data = Buffer.from(JSON.stringify(body), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length, 0);
  return Buffer.concat([head, data]);
}

/**
 * Writes `bytes` to a data socket and collects the frames the runner
 * answers; resolves once it has `until` frames (the connection left open),
 * or, with `until` absent, once the runner ends the connection.
 */
export function talk(path: string, bytes: Buffer, until?: number): Promise<Record<string, any>[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = Buffer.alloc(0);
    const frames: Record<string, any>[] = [];
    sock.on('error', reject);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const n = buf.readUInt32BE(0);
        frames.push(JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as Record<string, any>);
        buf = buf.subarray(4 + n);
      }
      if (until !== undefined && frames.length >= until) {
        sock.destroy();
        resolve(frames);
      }
    });
    sock.on('end', () => {
      sock.destroy();
      resolve(frames);
    });
  });
}
