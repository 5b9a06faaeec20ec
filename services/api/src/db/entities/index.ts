import type { EntitySchema } from '@mikro-orm/core';
import { Plan } from './plan.js';
import { Tenant } from './tenant.js';
import { User } from './user.js';
import { Session } from './session.js';
import { ApiKey } from './api-key.js';
import { Bot } from './bot.js';
import { Device } from './device.js';
import { Room } from './room.js';
import { Command } from './command.js';
import { CommandVersion } from './command-version.js';
import { Outbox } from './outbox.js';
import { IngressEvent } from './ingress-event.js';
import { ApiLog } from './api-log.js';
import { Run } from './run.js';
import { TenantSecret } from './tenant-secret.js';
import { UsageDay } from './usage-day.js';
import { DeadLetter } from './dead-letter.js';
import { EgressDomain } from './egress-domain.js';
import { Throttle } from './throttle.js';
import { StoreEntry, StoreUsage } from './store-entry.js';
import { BridgeLink } from './bridge-link.js';
import { Schedule, ScheduleFire } from './schedule.js';
import { AuthAttempt } from './auth-attempt.js';

export { Plan, Tenant, User, Session, ApiKey, Bot, Device, Room, Command, CommandVersion, Outbox, IngressEvent, ApiLog, Run, TenantSecret, UsageDay, DeadLetter, EgressDomain, Throttle, StoreEntry, StoreUsage, BridgeLink, Schedule, ScheduleFire, AuthAttempt };

/**
 * Every MikroORM entity (management side), mapped onto the tables of the
 * migrations. Defined with EntitySchema: vitest/esbuild emit no decorator
 * metadata. Foreign keys are plain id properties (the API always scopes by
 * tenant id itself and never needs lazy relations).
 */
export const entities: EntitySchema<any, any>[] = [
  Plan,
  Tenant,
  User,
  Session,
  ApiKey,
  Bot,
  Device,
  Room,
  Command,
  CommandVersion,
  Outbox,
  IngressEvent,
  ApiLog,
  Run,
  TenantSecret,
  UsageDay,
  DeadLetter,
  EgressDomain,
  Throttle,
  StoreEntry,
  StoreUsage,
  BridgeLink,
  Schedule,
  ScheduleFire,
  AuthAttempt,
];
