import { readFileSync, readdirSync } from 'node:fs';
import amqp, { type Channel, type ChannelModel } from 'amqplib';

/**
 * Cheap side measurements taken before and after each scenario: a
 * Prometheus histogram scraped from a service's /metrics (its quantiles
 * over the scenario, from the bucket differences), and the CPU time of
 * every process on the path (read from /proc).
 */

/** Cumulative bucket counts of one histogram: upper bound (s) -> count, +Inf as Infinity. */
export type Buckets = Map<number, number>;

/** `label` (e.g. `stage="claim"`) keeps only the series carrying it; without, every series is summed. */
export async function scrapeHistogram(url: string, name: string, label?: string): Promise<Buckets | null> {
  const res = await fetch(url).catch(() => null);
  if (!res || res.status !== 200) return null;
  const text = await res.text();
  const out: Buckets = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix) || (label && !line.includes(label))) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le === undefined || !Number.isFinite(value)) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + value);
  }
  return out.size ? out : null;
}

/**
 * The q-quantile (ms) of what was observed between two scrapes, linearly
 * interpolated inside its bucket (as Prometheus' histogram_quantile does).
 * Null when nothing was observed; the last finite bound when the quantile
 * falls in +Inf.
 */
export function histogramQuantileMs(before: Buckets | null, after: Buckets | null, q: number): { ms: number; count: number } | null {
  if (!after) return null;
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const diff = bounds.map((b) => (after.get(b) ?? 0) - (before?.get(b) ?? 0));
  const total = diff[diff.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < bounds.length; i++) {
    const bound = bounds[i]!;
    const count = diff[i]!;
    if (count >= rank) {
      if (bound === Infinity) return { ms: prevBound * 1000, count: total };
      const inBucket = count - prevCount;
      const frac = inBucket > 0 ? (rank - prevCount) / inBucket : 1;
      return { ms: (prevBound + (bound - prevBound) * frac) * 1000, count: total };
    }
    prevBound = bound;
    prevCount = count;
  }
  return null;
}

const CLK_TCK = 100;

/** utime + stime of a process in seconds, or null when it is gone. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Processes whose /proc/<pid>/<file> passes `test` (processes gone meanwhile are skipped). */
export function pidsWhere(file: 'comm' | 'cgroup', test: (content: string) => boolean): number[] {
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (test(readFileSync(`/proc/${e}/${file}`, 'utf8'))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

const pidsNamed = (comm: string): number[] => pidsWhere('comm', (c) => c.trim() === comm);

/**
 * CPU seconds per component and process at one moment. RabbitMQ is every
 * `beam.smp`, PostgreSQL every `postgres` process (backends included);
 * with `docker`, Docker is dockerd, containerd and the shims, and
 * `sandboxes` every process inside a container.
 */
export type CpuSample = Record<string, Record<number, number>>;

export function sampleCpu(services: Record<string, number | undefined>, docker = false): CpuSample {
  const out: CpuSample = {};
  const add = (name: string, pids: number[]) => {
    const m: Record<number, number> = {};
    for (const pid of pids) {
      const s = cpuSecondsOf(pid);
      if (s !== null) m[pid] = s;
    }
    if (Object.keys(m).length) out[name] = m;
  };
  for (const [name, pid] of Object.entries(services)) if (pid !== undefined) add(name, [pid]);
  const u = process.cpuUsage();
  out.bench = { [process.pid]: (u.user + u.system) / 1e6 };
  add('rabbitmq', pidsNamed('beam.smp'));
  add('postgres', pidsNamed('postgres'));
  if (docker) {
    add('docker', [...pidsNamed('dockerd'), ...pidsNamed('containerd'), ...pidsNamed('containerd-shim')]);
    add('sandboxes', pidsWhere('cgroup', (c) => /:\/docker[/-]/.test(c)));
  }
  return out;
}

/**
 * Cores each component kept busy between two samples (1.0 = one core),
 * over `seconds`. A process born in between counts whole; one that died in
 * between is missed.
 */
export function cpuCores(before: CpuSample, after: CpuSample, seconds: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (seconds <= 0) return out;
  for (const [k, pids] of Object.entries(after)) {
    let used = 0;
    for (const [pid, v] of Object.entries(pids)) used += v - (before[k]?.[Number(pid)] ?? 0);
    out[k] = Math.round((used / seconds) * 100) / 100;
  }
  return out;
}

const STAT_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

/** Whole-machine CPU ticks by kind (the first line of /proc/stat). */
export type MachineTicks = Record<(typeof STAT_FIELDS)[number], number>;

export function machineTicks(): MachineTicks | null {
  try {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return Object.fromEntries(STAT_FIELDS.map((k, i) => [k, v[i] ?? 0])) as MachineTicks;
  } catch {
    return null;
  }
}

/**
 * Share of the whole machine (all cores) by kind between two readings:
 * `busy` is everything but idle and iowait; softirq is mostly loopback
 * networking, steal is time the hypervisor gave to someone else.
 */
export function machineShare(before: MachineTicks | null, after: MachineTicks | null): Record<string, number> | null {
  if (!before || !after) return null;
  const d = Object.fromEntries(STAT_FIELDS.map((k) => [k, after[k] - before[k]])) as MachineTicks;
  const total = STAT_FIELDS.reduce((a, k) => a + d[k], 0);
  if (total <= 0) return null;
  const share = (v: number) => Math.round((v / total) * 100) / 100;
  return {
    busy: share(total - d.idle - d.iowait),
    user: share(d.user + d.nice),
    system: share(d.system),
    softirq: share(d.softirq + d.irq),
    steal: share(d.steal),
    iowait: share(d.iowait),
  };
}

/**
 * Where messages wait: the ready (not yet delivered) count of the dispatch
 * queue and of the phones' reply queues, polled with passive declares while
 * a scenario runs. A backlog in front of the dispatcher means it (or what
 * it waits on) is the bottleneck; one in the reply queues points at the
 * gateway's delivery.
 */
export class QueueProbe {
  private timer: NodeJS.Timeout | null = null;
  private ch: Channel | null = null;
  maxDispatch = 0;
  maxReplies = 0;

  private constructor(
    private readonly conn: ChannelModel,
    private readonly dispatchQueue: string,
    private readonly replyQueues: string[],
  ) {}

  static async open(amqpUrl: string, dispatchQueue: string, replyQueues: string[]): Promise<QueueProbe> {
    const conn = await amqp.connect(amqpUrl);
    conn.on('error', () => undefined);
    return new QueueProbe(conn, dispatchQueue, replyQueues);
  }

  start(intervalMs = 500): void {
    this.maxDispatch = 0;
    this.maxReplies = 0;
    const poll = async () => {
      try {
        if (!this.ch) {
          this.ch = await this.conn.createChannel();
          this.ch.on('error', () => undefined);
          this.ch.on('close', () => (this.ch = null));
        }
        const ch = this.ch;
        const d = await ch.checkQueue(this.dispatchQueue);
        const r = await Promise.all(this.replyQueues.map((q) => ch.checkQueue(q)));
        this.maxDispatch = Math.max(this.maxDispatch, d.messageCount);
        this.maxReplies = Math.max(this.maxReplies, r.reduce((a, q) => a + q.messageCount, 0));
      } catch {
        /* a missing queue closes the channel; the next poll opens another */
      }
      if (this.timer) this.timer = setTimeout(() => void poll(), intervalMs);
    };
    this.timer = setTimeout(() => void poll(), 0);
  }

  /** Messages waiting (ready) in a queue now, the dispatch queue by default (null when it cannot be read). */
  async depth(queue = this.dispatchQueue): Promise<number | null> {
    try {
      const ch = await this.conn.createChannel();
      ch.on('error', () => undefined);
      try {
        return (await ch.checkQueue(queue)).messageCount;
      } finally {
        await ch.close().catch(() => undefined);
      }
    } catch {
      return null;
    }
  }

  stop(): { maxDispatchReady: number; maxReplyReady: number } {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return { maxDispatchReady: this.maxDispatch, maxReplyReady: this.maxReplies };
  }

  async close(): Promise<void> {
    this.stop();
    await this.conn.close().catch(() => undefined);
  }
}
