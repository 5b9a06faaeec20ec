import type { RunnerCallPayload, RunnerStatsPayload } from '@domaeka/broker';
import type { StatsSample } from '../docker/docker-engine.js';
import type { CgroupStats } from './cgroup-stats.js';

/** Several samples a second (issue 3: "live stats ... several times a second from cgroup files"). */
export const LIVE_STATS_INTERVAL_MS = 250;

export interface Watching {
  stop(): void;
}

const NOT_WATCHING: Watching = { stop: () => undefined };

/**
 * CPU % and memory of a running call, read from the container's cgroup on
 * the host and handed to `publish` (the runner sends them as `runner.stats`
 * telemetry) every LIVE_STATS_INTERVAL_MS while the call lasts. Only calls
 * that ask (`liveStats`: the editor's test runs) are watched: room calls
 * keep the message path free of timers and file reads.
 */
export class LiveStats {
  constructor(
    private readonly cgroups: CgroupStats,
    private readonly publish: (s: RunnerStatsPayload) => void,
    private readonly intervalMs = LIVE_STATS_INTERVAL_MS,
  ) {}

  watch(call: RunnerCallPayload, containerId: string, start: StatsSample): Watching {
    if (!call.liveStats) return NOT_WATCHING;
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
        this.publish({
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
    return {
      stop() {
        stopped = true;
        clearInterval(timer);
      },
    };
  }
}
