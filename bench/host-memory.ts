import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { cgroupMembers, parentOf, rollup } from './containers.js';
import { pidsWhere } from './probes.js';

/**
 * Host memory as dedicated-density reads it: the machine's own account
 * (/proc/meminfo, kernel memory included), PSS of named host processes
 * (dockerd, containerd, the runner) and the PSS of many containers at
 * once (their processes and their containerd-shims), read from /proc
 * after one batched `docker inspect`.
 */

const run = promisify(execFile);

/** The /proc/meminfo fields that say where memory went (kB). */
const FIELDS = ['MemTotal', 'MemAvailable', 'MemFree', 'Cached', 'Shmem', 'Slab', 'SUnreclaim', 'KernelStack', 'PageTables'] as const;
export type MemInfo = Record<(typeof FIELDS)[number], number>;

export function memInfo(): MemInfo {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const out = {} as MemInfo;
  for (const f of FIELDS) out[f] = Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return out;
}

/** after - before per field, MB. */
export function memDeltaMB(before: MemInfo, after: MemInfo): Record<string, number> {
  return Object.fromEntries(FIELDS.filter((f) => f !== 'MemTotal').map((f) => [f, mb(after[f] - before[f])]));
}

export interface ProcessesMemory {
  processes: number;
  pssMB: number;
  rssMB: number;
}

/**
 * The Docker engine the bench's runner talks to (DOCKER_HOST, else the
 * default socket): its dockerd (other engines on the machine, started with
 * `-H <socket>`, are not it) and the containerd that dockerd started (its
 * child). Other helpers' engines would otherwise count in its growth.
 */
export function engineProcesses(dockerHost = process.env.DOCKER_HOST ?? ''): { dockerd: number[]; containerd: number[] } {
  const socket = dockerHost.replace(/^unix:\/\//, '');
  const dockerd = pidsWhere('comm', (c) => c.trim() === 'dockerd').filter((pid) => {
    const args = readArgs(pid);
    const hosts = args.flatMap((a, i) => (a === '-H' || a === '--host' ? [args[i + 1] ?? ''] : a.startsWith('--host=') ? [a.slice(7)] : []));
    return socket && socket !== '/var/run/docker.sock' ? hosts.some((h) => h.endsWith(socket)) : hosts.length === 0 || hosts.some((h) => h.endsWith('/var/run/docker.sock'));
  });
  const containerd = pidsWhere('comm', (c) => c.trim() === 'containerd').filter((pid) => dockerd.includes(parentOf(pid) ?? -1));
  return { dockerd, containerd };
}

function readArgs(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** PSS and RSS of every process with this `comm` (or of the pids given). */
export function processesMemory(which: string | number[]): ProcessesMemory {
  const pids = typeof which === 'string' ? pidsWhere('comm', (c) => c.trim() === which) : which;
  const all = pids.map(rollup).filter((m) => m !== null);
  return { processes: all.length, pssMB: mb(all.reduce((a, p) => a + p.pssKb, 0)), rssMB: mb(all.reduce((a, p) => a + p.rssKb, 0)) };
}

/** Init pids of running containers (`docker inspect`, in batches). */
export async function initPids(ids: string[]): Promise<number[]> {
  const pids: number[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const { stdout } = await run('docker', ['inspect', '-f', '{{.State.Pid}}', ...ids.slice(i, i + 200)], { maxBuffer: 16 * 1024 * 1024 }).catch(() => ({ stdout: '' }));
    pids.push(...stdout.split('\n').filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0));
  }
  return pids;
}

/** Every process of these containers (their cgroups' members) and their containerd-shims. */
export function containerProcesses(inits: number[]): { inside: number[]; shims: number[] } {
  const inside: number[] = [];
  const shims: number[] = [];
  for (const init of inits) {
    inside.push(...(cgroupMembers(init) ?? [init]));
    const parent = parentOf(init);
    if (parent !== null && readComm(parent).startsWith('containerd-shim')) shims.push(parent);
  }
  return { inside, shims };
}

/**
 * Context switches (voluntary + involuntary) of every thread of these
 * processes: how often they woke. An idle process that still wakes (a Go
 * runtime's timers, a poll with a timeout) costs CPU on a busy machine.
 */
export function contextSwitches(pids: number[]): number {
  let n = 0;
  for (const pid of pids) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
        n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(text)?.[1] ?? 0) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      } catch {
        /* gone */
      }
    }
  }
  return n;
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export interface ContainersMemory {
  /** Containers found running and read. */
  measured: number;
  /** Processes inside them (cgroup members). */
  processes: number;
  /** Sum over the containers: PSS of their processes, of their shims, and both. */
  containerPssMB: number;
  shimPssMB: number;
  pssMB: number;
  rssMB: number;
  /** Per container (pssMB / measured). */
  pssPerContainerMB: number | null;
  shimPssPerContainerMB: number | null;
}

/**
 * Host memory of many containers: `docker inspect` in batches for their
 * init pids, then per container PSS of its cgroup's processes and of the
 * containerd-shim parenting its init (the same reading as containerMemory,
 * summed). PSS shares pages among every process mapping them, so the sum
 * over all containers counts each shared page once: it is what they cost
 * together.
 */
export async function containersMemory(ids: string[]): Promise<ContainersMemory> {
  const pids = await initPids(ids);
  let processes = 0;
  let containerKb = 0;
  let shimKb = 0;
  let rssKb = 0;
  for (const init of pids) {
    for (const pid of cgroupMembers(init) ?? [init]) {
      const m = rollup(pid);
      if (!m) continue;
      processes++;
      containerKb += m.pssKb;
      rssKb += m.rssKb;
    }
    const parent = parentOf(init);
    const shim = parent === null ? null : rollup(parent);
    if (shim && shim.comm.startsWith('containerd-shim')) {
      shimKb += shim.pssKb;
      rssKb += shim.rssKb;
    }
  }
  const n = pids.length;
  return {
    measured: n,
    processes,
    containerPssMB: mb(containerKb),
    shimPssMB: mb(shimKb),
    pssMB: mb(containerKb + shimKb),
    rssMB: mb(rssKb),
    pssPerContainerMB: n ? mb((containerKb + shimKb) / n) : null,
    shimPssPerContainerMB: n ? mb(shimKb / n) : null,
  };
}

function mb(kb: number): number {
  return Math.round((kb / 1024) * 100) / 100;
}
