import os from 'node:os';
import type { SystemStats } from '@domaeka/broker/contracts';

/** CPU time of all cores, summed: busy and total (ms). */
function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

/**
 * The machine the API runs on: CPU busy share between two samples (the
 * previous call's and this one's), load average and memory. Samples taken
 * less than 250 ms apart reuse the last figure (two admins polling at once
 * would otherwise measure a few ticks).
 */
export class SystemSampler {
  private last = cpuTimes();
  private lastAt = Date.now();
  private percent: number | null = null;

  sample(): SystemStats {
    const now = Date.now();
    if (now - this.lastAt >= 250) {
      const t = cpuTimes();
      const total = t.total - this.last.total;
      if (total > 0) this.percent = Math.round(((t.busy - this.last.busy) / total) * 1000) / 10;
      this.last = t;
      this.lastAt = now;
    }
    const total = os.totalmem();
    const free = os.freemem();
    return { cpuPercent: this.percent, loadavg: os.loadavg(), cpus: os.cpus().length, memory: { total, free, used: total - free } };
  }
}
