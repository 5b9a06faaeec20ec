import type { TSchema } from '@sinclair/typebox';
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AccessRevoked, AnalyzeEvent, Changed, DevicePresence, DispatchDone, GatewayHeartbeat, IngressAnalyzeEvent, ReplyMessage, RunnerCall, RunnerHeartbeat, RunnerOutput, RunnerResult, RunnerStats, ScheduleFireEvent } from './schemas/index.js';

/**
 * The one catalog of messages: schema, exchange and routing key. Durable
 * messages are persistent and confirmed; RPC messages are confirmed but
 * transient (their deadline is seconds away) and travel the default exchange
 * straight to a named queue; telemetry is transient and droppable.
 */
// TypeBox checks no string formats unless they are registered.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID.test(v));

export type MessageKind = 'durable' | 'rpc' | 'telemetry';

export interface MessageDef<S extends TSchema = TSchema> {
  type: string;
  version: number;
  schema: S;
  kind: MessageKind;
  /** Exchange suffix (the prefix is per deployment / per test); '' is the default exchange (RPC). */
  exchange: string;
}

export const messages = {
  analyze: { type: 'analyze', version: 1, schema: AnalyzeEvent, kind: 'durable', exchange: 'events' },
  scheduleFire: { type: 'schedule.fire', version: 1, schema: ScheduleFireEvent, kind: 'durable', exchange: 'events' },
  ingressAnalyze: { type: 'ingress.analyze', version: 1, schema: IngressAnalyzeEvent, kind: 'durable', exchange: 'ingress' },
  reply: { type: 'reply', version: 1, schema: ReplyMessage, kind: 'durable', exchange: 'replies' },
  dispatchDone: { type: 'dispatch.done', version: 1, schema: DispatchDone, kind: 'telemetry', exchange: 'telemetry' },
  changed: { type: 'changed', version: 1, schema: Changed, kind: 'telemetry', exchange: 'changes' },
  runnerCall: { type: 'runner.call', version: 1, schema: RunnerCall, kind: 'rpc', exchange: '' },
  runnerResult: { type: 'runner.result', version: 1, schema: RunnerResult, kind: 'rpc', exchange: '' },
  runnerHeartbeat: { type: 'runner.heartbeat', version: 1, schema: RunnerHeartbeat, kind: 'telemetry', exchange: 'telemetry' },
  runnerStats: { type: 'runner.stats', version: 1, schema: RunnerStats, kind: 'telemetry', exchange: 'telemetry' },
  runnerOutput: { type: 'runner.output', version: 1, schema: RunnerOutput, kind: 'telemetry', exchange: 'telemetry' },
  gatewayHeartbeat: { type: 'gateway.heartbeat', version: 1, schema: GatewayHeartbeat, kind: 'telemetry', exchange: 'telemetry' },
  devicePresence: { type: 'device.presence', version: 1, schema: DevicePresence, kind: 'telemetry', exchange: 'telemetry' },
  accessRevoked: { type: 'access.revoked', version: 1, schema: AccessRevoked, kind: 'telemetry', exchange: 'telemetry' },
} as const satisfies Record<string, MessageDef>;

type DoneSource = 'phone' | 'http' | 'ingress' | 'kakao-skill' | 'schedule';

export const routingKeys = {
  analyze: 'analyze',
  scheduleFire: 'schedule.fire',
  /**
   * `dispatch.done.<source>.<tenantId or ->`: the API's ingresses bind only
   * their sources (`dispatchDoneOf`), the live tail only the tenants someone
   * watches (`callLog`), so API processes do not receive the verdict on every
   * phone message.
   */
  dispatchDone: (source: DoneSource, tenantId: string | null) => `dispatch.done.${source}.${tenantId ?? '-'}`,
  dispatchDoneOf: (source: DoneSource) => `dispatch.done.${source}.*`,
  dispatchDoneAll: 'dispatch.done.#',
  changed: 'changed',
  runnerHeartbeat: 'runner.heartbeat',
  runnerStats: (tenantId: string) => `runner.stats.${tenantId}`,
  runnerStatsAll: 'runner.stats.*',
  runnerOutput: (tenantId: string) => `runner.output.${tenantId}`,
  runnerOutputAll: 'runner.output.*',
  /** The binding of a tenant's live tail: its events' `dispatch.done` (those carrying `call` are its room calls). */
  callLog: (tenantId: string) => `dispatch.done.*.${tenantId}`,
  gatewayHeartbeat: 'gateway.heartbeat',
  devicePresence: (tenantId: string) => `device.presence.${tenantId}`,
  devicePresenceAll: 'device.presence.*',
  accessRevoked: 'access.revoked',
} as const;

const compiled = new Map<string, TypeCheck<TSchema>>();
/** Compiled validator for a message definition (compiled once). */
export function checkerFor(def: MessageDef): TypeCheck<TSchema> {
  const key = `${def.type}.v${def.version}`;
  let c = compiled.get(key);
  if (!c) {
    c = TypeCompiler.Compile(def.schema);
    compiled.set(key, c);
  }
  return c;
}

/** Returns null when valid, else a short reason naming the first failing path. */
export function validationError(def: MessageDef, value: unknown): string | null {
  const check = checkerFor(def);
  if (check.Check(value)) return null;
  const first = check.Errors(value).First();
  return first ? `schema ${def.type}.v${def.version}: ${first.path || '/'} ${first.message}` : 'schema mismatch';
}
