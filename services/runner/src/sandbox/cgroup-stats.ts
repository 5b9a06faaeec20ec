import { readFileSync, writeFileSync } from 'node:fs';
import type { DockerEngine, StatsSample } from '../docker/docker-engine.js';

/**
 * CPU time and peak memory of a container, read by the runner on the host
 * from the container's cgroup: numbers the tenant's process cannot fake.
 * cgroup v1 (cgroupfs driver, this machine) and v2 (cgroupfs or systemd
 * driver) paths are tried; when none is readable (the runner itself in a
 * container without the host's cgroup tree), Docker's one-shot stats API.
 * Paths are built from the container id Docker gave us, never from
 * anything inside the container.
 */
interface Layout {
  cpu: (id: string) => string;
  /** Returns nanoseconds. */
  parseCpu: (text: string) => number;
  peak: (id: string) => string;
  /** Memory in use now (live stats). */
  current: (id: string) => string;
  /** How often the container hit its memory limit: v1 `memory.failcnt`, v2 the `max` line of `memory.events`. */
  limitHits: (id: string) => string;
  parseLimitHits: (text: string) => number;
  /** v1 lets root reset the peak before a call; v2's memory.peak cannot be reset (kernel < 6.12). */
  resettablePeak: boolean;
}

const ROOT = '/sys/fs/cgroup';

const LAYOUTS: Layout[] = [
  {
    cpu: (id) => `${ROOT}/cpuacct/docker/${id}/cpuacct.usage`,
    parseCpu: (t) => Number(t.trim()),
    peak: (id) => `${ROOT}/memory/docker/${id}/memory.max_usage_in_bytes`,
    current: (id) => `${ROOT}/memory/docker/${id}/memory.usage_in_bytes`,
    limitHits: (id) => `${ROOT}/memory/docker/${id}/memory.failcnt`,
    parseLimitHits: (t) => Number(t.trim()),
    resettablePeak: true,
  },
  ...[(id: string) => `${ROOT}/docker/${id}`, (id: string) => `${ROOT}/system.slice/docker-${id}.scope`].map(
    (dir): Layout => ({
      cpu: (id) => `${dir(id)}/cpu.stat`,
      parseCpu: (t) => Number(/usage_usec (\d+)/.exec(t)?.[1] ?? NaN) * 1000,
      peak: (id) => `${dir(id)}/memory.peak`,
      current: (id) => `${dir(id)}/memory.current`,
      limitHits: (id) => `${dir(id)}/memory.events`,
      parseLimitHits: (t) => Number(/^max (\d+)$/m.exec(t)?.[1] ?? NaN),
      resettablePeak: false,
    }),
  ),
];

export class CgroupStats {
  /** The layout found to work on this host (found once). */
  private layout: Layout | null | undefined;

  constructor(private readonly engine: DockerEngine) {}

  /** Where a call starts: resets the peak (v1) and returns the CPU counter to subtract. */
  async begin(id: string): Promise<StatsSample> {
    const layout = await this.find(id);
    if (layout?.resettablePeak) {
      try {
        writeFileSync(layout.peak(id), '0');
      } catch {
        /* the container is gone: the sample says so */
      }
    }
    return this.sample(id);
  }

  async sample(id: string): Promise<StatsSample> {
    const layout = await this.find(id);
    if (layout) {
      const [cpu, peak] = await Promise.all([readNumber(layout.cpu(id), layout.parseCpu), readNumber(layout.peak(id), Number)]);
      return { cpuNs: cpu, peakMemoryBytes: peak };
    }
    try {
      return await this.engine.stats(id);
    } catch {
      return { cpuNs: null, peakMemoryBytes: null };
    }
  }

  /**
   * How many times the container has hit its memory limit so far (null:
   * unreadable). A call killed at its timeout while this grew was thrashing
   * at the limit: under load the kernel can take seconds to OOM-kill a
   * memory bomb, and the room should hear "memory", not "time".
   */
  async limitHits(id: string): Promise<number | null> {
    const layout = await this.find(id);
    return layout ? readNumber(layout.limitHits(id), layout.parseLimitHits) : null;
  }

  /** CPU counter and memory in use now (live stats; null where the cgroup files cannot be read). */
  async now(id: string): Promise<{ cpuNs: number | null; memoryBytes: number | null }> {
    const layout = await this.find(id);
    if (!layout) return { cpuNs: null, memoryBytes: null };
    const [cpu, mem] = await Promise.all([readNumber(layout.cpu(id), layout.parseCpu), readNumber(layout.current(id), Number)]);
    return { cpuNs: cpu, memoryBytes: mem };
  }

  private async find(id: string): Promise<Layout | null> {
    if (this.layout !== undefined) return this.layout;
    for (const l of LAYOUTS) {
      if ((await readNumber(l.cpu(id), l.parseCpu)) !== null) return (this.layout = l);
    }
    // Not cached: the container may have died before we looked; the next one decides.
    return null;
  }
}

/**
 * Synchronous on purpose: cgroup files are kernel memory (no disk), a read
 * takes ~0.05 ms, while the async API's thread-pool hop took ~0.4 ms each and
 * sits in a dedicated tenant's call chain (bench: a third of the runner's CPU).
 */
async function readNumber(path: string, parse: (t: string) => number): Promise<number | null> {
  try {
    const n = parse(readFileSync(path, 'utf8'));
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}
