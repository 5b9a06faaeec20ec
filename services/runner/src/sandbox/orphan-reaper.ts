import { names, type BrokerConnection } from '@domaeka/broker';
import type { Logger } from 'pino';
import { LABELS } from '../docker/container-spec.js';
import type { DockerEngine } from '../docker/docker-engine.js';

export interface ReaperOptions {
  prefix: string;
  runnerId: string;
  instance: number;
  /** Skip the liveness question: every container of this prefix not ours goes (one runner per machine). */
  reapAll: boolean;
  /** A runner found dead (its containers were just removed): its host directories go too. */
  deadRunner?: (runnerId: string) => Promise<void>;
}

/**
 * Removes containers a dead runner left behind (killed -9, machine
 * rebooted). Only containers labelled with our broker prefix are
 * considered, so other deployments and parallel test files are never
 * touched. A container is an orphan when it is from an earlier life of our
 * own runner id, or when its runner's exclusive call queue no longer exists
 * (the queue lives exactly as long as that runner's broker connection).
 */
export class OrphanReaper {
  constructor(
    private readonly engine: DockerEngine,
    private readonly conn: BrokerConnection,
    private readonly opts: ReaperOptions,
    private readonly logger: Logger,
  ) {}

  /** Returns how many containers were removed. */
  async reap(): Promise<number> {
    const found = await this.engine.listByLabels([`${LABELS.prefix}=${this.opts.prefix}`, LABELS.runner]);
    const alive = new Map<string, boolean>();
    let removed = 0;
    for (const c of found) {
      const owner = c.labels[LABELS.runner] ?? '';
      const instance = Number(c.labels[LABELS.instance] ?? NaN);
      let orphan: boolean;
      if (owner === this.opts.runnerId) orphan = instance !== this.opts.instance;
      else if (this.opts.reapAll) orphan = true;
      else {
        if (!alive.has(owner)) alive.set(owner, await this.runnerAlive(owner));
        orphan = !alive.get(owner);
      }
      if (!orphan) continue;
      await this.engine.remove(c.id);
      removed++;
      this.logger.info({ containerId: c.id.slice(0, 12), owner, state: c.state }, 'orphan sandbox removed');
    }
    for (const [owner, isAlive] of alive) if (!isAlive) await this.opts.deadRunner?.(owner);
    return removed;
  }

  /** A passive declare of its queue: 404 means gone; 405 (exclusive to another connection) means alive. */
  private async runnerAlive(runnerId: string): Promise<boolean> {
    const ch = await this.conn.createChannel();
    ch.on('error', () => undefined);
    try {
      await ch.checkQueue(names(this.opts.prefix).runnerQueue(runnerId));
      return true;
    } catch (err) {
      return (err as { code?: number }).code !== 404;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }
}
