import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * The bench's view of the sandbox containers, through the `docker` CLI (the
 * runner is the only service that speaks the Engine API; the bench only
 * looks): which containers a broker prefix has, by role, and how much host
 * memory one of them holds.
 */

const run = promisify(execFile);

/** Labels of services/runner/src/docker/container-spec.ts. */
const PREFIX_LABEL = 'org.domaeka.prefix';
const ROLE_LABEL = 'org.domaeka.role';
const PROFILE_LABEL = 'org.domaeka.profile';

export interface SandboxContainer {
  id: string;
  /** pool | ephemeral | dedicated (the runner's role label). */
  role: string;
  profile: string;
  createdAt: string;
}

/** Running containers of one broker prefix (the bench's own runner made them). */
export async function containersOf(prefix: string): Promise<SandboxContainer[]> {
  const { stdout } = await run('docker', [
    'ps',
    '--no-trunc',
    '--filter',
    `label=${PREFIX_LABEL}=${prefix}`,
    '--format',
    `{{.ID}}\t{{.Label "${ROLE_LABEL}"}}\t{{.Label "${PROFILE_LABEL}"}}\t{{.CreatedAt}}`,
  ]);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', role = '', profile = '', createdAt = ''] = line.split('\t');
      return { id, role, profile, createdAt };
    });
}

/** Every container of the prefix, running or not, removed (the bench's cleanup; the runner should have done it). */
export async function removeContainersOf(prefix: string): Promise<number> {
  const { stdout } = await run('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=${PREFIX_LABEL}=${prefix}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length) await run('docker', ['rm', '-f', ...ids]).catch(() => undefined);
  return ids.length;
}

/** Sandbox containers running on the machine, any prefix (PSS shares shared pages among them). */
export async function runningSandboxCount(): Promise<number> {
  const { stdout } = await run('docker', ['ps', '-q', '--filter', `label=${ROLE_LABEL}`]);
  return stdout.split('\n').filter(Boolean).length;
}

export interface ProcessMemory {
  pid: number;
  comm: string;
  /** From /proc/<pid>/smaps_rollup, kB. */
  pssKb: number;
  rssKb: number;
  privateKb: number;
}

export interface ContainerMemory {
  containerId: string;
  /** The container's processes (its cgroup's members) and the containerd-shim that parents them. */
  processes: ProcessMemory[];
  shim: ProcessMemory | null;
  /** PSS of the container's processes plus its shim (DESIGN.md section 7's density measure), MB. */
  pssMB: number;
  rssMB: number;
  privateMB: number;
  /** Where the process list came from. */
  source: 'cgroup.procs' | 'process tree';
}

export function rollup(pid: number): ProcessMemory | null {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { pid, comm, pssKb: field('Pss'), rssKb: field('Rss'), privateKb: field('Private_Clean') + field('Private_Dirty') };
  } catch {
    return null;
  }
}

export function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * Members of the cgroup `pid` is in: the memory controller's directory on
 * cgroup v1 (`N:memory:/docker/<id>`), the unified one on v2 (`0::/...`).
 * Every process of the container is there, whatever forked it.
 */
export function cgroupMembers(pid: number): number[] | null {
  try {
    const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
    const path = v1 ? `/sys/fs/cgroup/memory${v1.slice(v1.indexOf(':', v1.indexOf(':') + 1) + 1)}` : null;
    const v2 = lines.find((l) => l.startsWith('0::'));
    const dir = path ?? (v2 ? `/sys/fs/cgroup${v2.slice(3)}` : null);
    if (!dir) return null;
    return readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return null;
  }
}

/** `pid` and its descendants (when the cgroup cannot be read). */
function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    try {
      for (const t of readdirSync(`/proc/${p}/task`)) {
        out.push(...readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
      }
    } catch {
      /* gone */
    }
  }
  return [...new Set(out)];
}

/**
 * Host memory of one container: PSS of every process in it plus the
 * containerd-shim-runc-v2 that parents its init (State.Pid is docker-init
 * with `Init: true`; its parent is the shim). PSS divides shared pages
 * (python3's text, libc) among every process mapping them, so it depends on
 * how many sandbox containers run at that moment: the caller records that.
 */
export async function containerMemory(containerId: string): Promise<ContainerMemory> {
  const { stdout } = await run('docker', ['inspect', '-f', '{{.State.Pid}}', containerId]);
  const init = Number(stdout.trim());
  if (!Number.isInteger(init) || init <= 0) throw new Error(`container ${containerId.slice(0, 12)} is not running`);
  const members = cgroupMembers(init);
  const pids = members?.length ? members : tree(init);
  const processes = pids.map(rollup).filter((m): m is ProcessMemory => m !== null);
  const parent = parentOf(init);
  const shimMem = parent === null ? null : rollup(parent);
  const shim = shimMem && shimMem.comm.startsWith('containerd-shim') ? shimMem : null;
  const all = shim ? [...processes, shim] : processes;
  const mb = (kb: number) => Math.round((kb / 1024) * 100) / 100;
  return {
    containerId,
    processes,
    shim,
    pssMB: mb(all.reduce((a, p) => a + p.pssKb, 0)),
    rssMB: mb(all.reduce((a, p) => a + p.rssKb, 0)),
    privateMB: mb(all.reduce((a, p) => a + p.privateKb, 0)),
    source: members?.length ? 'cgroup.procs' : 'process tree',
  };
}

