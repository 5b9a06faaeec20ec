import { describe, expect, it } from 'vitest';
import { BrokerConnection, Publisher, type RunnerHeartbeatPayload } from '@domaeka/broker';
import { RunnerLaneWatch } from './runner-lanes.js';

describe('RunnerLaneWatch', () => {
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  // Never started: only the bookkeeping of heartbeats is exercised here.
  const conn = new BrokerConnection({ url: 'amqp://127.0.0.1:1', connectionName: 'unit', logger: silent });
  const beat = (runnerId: string, lanes: RunnerHeartbeatPayload['lanes']): RunnerHeartbeatPayload => ({
    runnerId,
    queue: `q.${runnerId}`,
    startedAt: 1,
    capacity: 8,
    busy: 0,
    lanes,
  });

  it('shows each tenant’s line at live runners and sums its refusals over the window only', () => {
    let now = 10 * 60_000;
    const watch = new RunnerLaneWatch(conn, new Publisher(conn, 'kb'), 'kb', 15, () => now);
    watch.beat(beat('r1', [{ tenantId: 'b', running: 2, waiting: 5, refused: 3 }]));
    watch.beat(beat('r1', [{ tenantId: 'b', running: 2, waiting: 4, refused: 1 }]));
    watch.beat(beat('r2', [{ tenantId: 'c', running: 1, waiting: 1, refused: 0 }]));
    expect(Object.fromEntries(watch.lanes())).toEqual({
      b: [{ runnerId: 'r1', running: 2, waiting: 4, refused: 4 }],
      c: [{ runnerId: 'r2', running: 1, waiting: 1, refused: 0 }],
    });

    // B's line emptied at r1, r2 gone silent: B's refusals still count within the window, C's line is gone.
    now += 2000;
    watch.beat(beat('r1', []));
    now += 2000;
    expect(Object.fromEntries(watch.lanes())).toEqual({ b: [{ runnerId: 'r1', running: 0, waiting: 0, refused: 4 }] });

    // Fifteen minutes later they have left the window.
    now += 15 * 60_000;
    watch.beat(beat('r1', []));
    expect(watch.lanes().size).toBe(0);
  });
});
