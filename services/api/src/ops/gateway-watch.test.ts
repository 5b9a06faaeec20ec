import { describe, expect, it } from 'vitest';
import { BrokerConnection, Publisher } from '@domaeka/broker';
import { GatewayWatch } from './gateway-watch.js';

describe('GatewayWatch', () => {
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  // Never started: only the bookkeeping of heartbeats is exercised here.
  const conn = new BrokerConnection({ url: 'amqp://127.0.0.1:1', connectionName: 'unit', logger: silent });
  const beat = (gatewayId: string, devices: number) => ({ gatewayId, startedAt: 1, connections: devices + 1, devices, intervalMs: 2000 });

  it('keeps the latest beat per gateway and leaves one out after three missed beats', () => {
    let now = 0;
    const watch = new GatewayWatch(conn, new Publisher(conn, 'kb'), 'kb', () => now);
    watch.beat(beat('g1', 2));
    watch.beat(beat('g2', 5));
    watch.beat(beat('g1', 3));
    expect(watch.live().map((g) => [g.gatewayId, g.devices])).toEqual([
      ['g1', 3],
      ['g2', 5],
    ]);
    now = 6000;
    watch.beat(beat('g2', 4));
    now = 6001;
    expect(watch.live().map((g) => g.gatewayId)).toEqual(['g2']);
  });
});
