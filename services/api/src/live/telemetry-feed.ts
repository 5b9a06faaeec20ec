import type { Logger } from '@domaeka/core';
import {
  messages,
  names,
  routingKeys,
  type AccessRevokedPayload,
  type BrokerConnection,
  type ChangedPayload,
  type Consumer,
  type DevicePresencePayload,
  type DispatchDonePayload,
  type MessageDef,
  type Publisher,
  type RunnerOutputPayload,
  type RunnerStatsPayload,
} from '@domaeka/broker';
import { subscribeTelemetry } from '../bus/subscription.js';
import type { RunService } from '../runs/run-service.js';
import type { LiveHub } from './live-hub.js';
import { TailBindings } from './tail-bindings.js';

/**
 * The telemetry the live features forward to browsers: test runs' output
 * and stats (from the runners) and finished room calls (from the
 * dispatcher, for the live tail: only of tenants someone watches, see
 * TailBindings), `access.revoked` (credentials ended on some API
 * process: the hub closes the sockets they opened), and the tenants' phones
 * (`device.presence` from the gateways, `changed` of devices from any API
 * process) for the pages in a tenant's `devices` room. Each kind on its own
 * exclusive, auto-delete queue of this API process (re-declared after a
 * reconnect), without acks: telemetry may be dropped, never blocks anyone.
 */
export class TelemetryFeed {
  private readonly consumers: Array<Consumer<unknown>>;
  /** Which tenants' room calls are routed here (the hub tells it who watches). */
  readonly tail: TailBindings;

  constructor(conn: BrokerConnection, publisher: Publisher, prefix: string, runs: RunService, hub: LiveHub, logger: Logger) {
    const feed = <P>(def: MessageDef, keys: readonly string[] | (() => Iterable<string>), handle: (p: P) => void): Consumer<unknown> =>
      subscribeTelemetry<P>(conn, publisher, prefix, { def, routingKeys: keys, prefetch: 200, maxLength: 10_000, handle }) as Consumer<unknown>;
    // A watched tenant's finished events; those that made a room call carry it.
    const calls = feed<DispatchDonePayload>(messages.dispatchDone, () => this.tail.routingKeys(), (d) => d.call && hub.tail(d.call));
    this.tail = new TailBindings(conn, names(prefix).telemetry, () => calls.queue, logger);
    this.consumers = [
      // Output goes through the run service: it keeps what a late joiner needs and drops what is not a live run of ours.
      feed<RunnerOutputPayload>(messages.runnerOutput, [routingKeys.runnerOutputAll], (o) => runs.liveOutput(o.callId, o.seq, o.data)),
      feed<RunnerStatsPayload>(messages.runnerStats, [routingKeys.runnerStatsAll], (s) => hub.runStats(s.callId, s)),
      calls,
      feed<AccessRevokedPayload>(messages.accessRevoked, [routingKeys.accessRevoked], (e) => void hub.revoked(e)),
      // Phones connecting and going (the gateway), approvals and blocks (any API process): the tenants' `devices` rooms.
      feed<DevicePresencePayload>(messages.devicePresence, [routingKeys.devicePresenceAll], (p) => hub.devicePresence(p)),
      subscribeTelemetry<ChangedPayload>(conn, publisher, prefix, {
        def: messages.changed,
        exchange: 'changes',
        routingKeys: [routingKeys.changed],
        prefetch: 200,
        maxLength: 10_000,
        handle: (c) => hub.devicesChanged(c),
      }) as Consumer<unknown>,
    ];
  }

  async start(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop().catch(() => undefined)));
  }
}
