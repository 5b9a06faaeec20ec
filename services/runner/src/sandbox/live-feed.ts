import type { RunnerCallPayload, RunnerOutputPayload, RunnerStatsPayload } from '@domaeka/broker';
import type { StatsSample } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';

/** Several samples a second (issue 3: "live stats ... several times a second from cgroup files"). */
export const LIVE_STATS_INTERVAL_MS = 250;

export interface Watching {
  /** Ask the runtime to stream output (`stream: true`) and hand each chunk to `output`. */
  readonly streaming: boolean;
  output(data: string): void;
  stop(): void;
}

const NOT_WATCHING: Watching = { streaming: false, output: () => undefined, stop: () => undefined };
/** What one output event may carry on to the broker (the runtime sends at most 4 KiB at a time). */
const OUTPUT_CHUNK_MAX = 16 * 1024;

export interface LiveSink {
  stats(s: RunnerStatsPayload): void;
  output(o: RunnerOutputPayload): void;
}

/**
 * A call that asks (`live`: the editor's test runs) is watched while it
 * runs: CPU % and memory read from the container's cgroup on the host
 * every LIVE_STATS_INTERVAL_MS, and the output the runtime streams as it is
 * printed, both handed to the sink (the runner publishes them as
 * `runner.stats` / `runner.output` telemetry). Room calls do not ask: the
 * message path stays free of timers and file reads.
 */
export class LiveFeed {
  constructor(
    private readonly cgroups: CgroupStats,
    private readonly sink: LiveSink,
    private readonly intervalMs = LIVE_STATS_INTERVAL_MS,
  ) {}

  watch(call: RunnerCallPayload, containerId: string, start: StatsSample): Watching {
    if (!call.live) return NOT_WATCHING;
    const t0 = Date.now();
    let lastCpu = start.cpuNs;
    let lastAt = t0;
    let stopped = false;
    let busy = false;
    const tick = async () => {
      if (busy || stopped) return; // a slow read never piles up
      busy = true;
      try {
        const now = await this.cgroups.now(containerId);
        if (stopped) return;
        const at = Date.now();
        const cpuPercent = now.cpuNs != null && lastCpu != null && at > lastAt ? Math.max(0, ((now.cpuNs - lastCpu) / 1e6 / (at - lastAt)) * 100) : null;
        lastCpu = now.cpuNs;
        lastAt = at;
        this.sink.stats({
          callId: call.callId,
          tenantId: call.tenantId,
          elapsedMs: at - t0,
          cpuPercent: cpuPercent === null ? null : Math.round(cpuPercent * 10) / 10,
          memoryBytes: now.memoryBytes,
          memoryLimitBytes: call.profile.memoryMb * 1024 * 1024,
        });
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), this.intervalMs);
    let seq = 0;
    const sink = this.sink;
    return {
      streaming: true,
      output(data: string) {
        if (stopped) return;
        sink.output({ callId: call.callId, tenantId: call.tenantId, seq: seq++, data: data.slice(0, OUTPUT_CHUNK_MAX) });
      },
      stop() {
        stopped = true;
        clearInterval(timer);
      },
    };
  }
}
