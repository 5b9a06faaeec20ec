import type { Registry } from 'prom-client';
import type { BrokerConnection, Publisher, RunnerClient } from '@domaeka/broker';
import type { Logger, SecretBox } from '@domaeka/core';
import type { EgressPolicy } from '@domaeka/calls';
import { AdminOps } from './ops/index.js';
import { BrokerStatus } from './ops/broker-status.js';
import { AccountService } from './accounts/account-service.js';
import { ApiKeyService } from './accounts/api-key-service.js';
import { ApprovalService } from './bots/approval-service.js';
import { AuthLimits } from './accounts/attempt-limiter.js';
import { PgAttemptStore } from './accounts/attempt-store.js';
import { BotService } from './bots/bot-service.js';
import { BridgeScriptService } from './bots/bridge-script-service.js';
import { PhoneStatusService } from './bots/phone-status-service.js';
import { BrokerUserService } from './bots/broker-user-service.js';
import type { BrokerAdmin } from './bots/broker-admin.js';
import { ChangeNotifier } from './bus/change-notifier.js';
import { CommandService, type UrlGuard } from './commands/command-service.js';
import { DispatchWaiter } from './messages/dispatch-waiter.js';
import { EgressService } from './commands/egress-service.js';
import { EditorService } from './commands/editor-service.js';
import { ErrorReplyService } from './accounts/error-reply-service.js';
import { createKakao, type KakaoServices } from './kakao/index.js';
import { LogService } from './logs/log-service.js';
import { MessageService } from './messages/message-service.js';
import { OnboardingRepository } from './onboarding/onboarding-repository.js';
import { OnboardingService } from './onboarding/onboarding-service.js';
import type { Orm } from './db/em.js';
import { RunService } from './runs/run-service.js';
import { TenantAdminService } from './ops/tenant-admin-service.js';
import { UsageService } from './accounts/usage-service.js';
import { SecretService } from './commands/secret-service.js';
import { ScheduleService } from './schedules/schedule-service.js';
import { StatsService } from './logs/stats-service.js';
import type { Pool } from '@domaeka/core';
import { DataRepository } from './data/data-repository.js';
import { ImportService } from './data/import-service.js';
import { StoreService } from './data/store-service.js';
import { TableService } from './data/table-service.js';
import { ExportService } from './backup/export-service.js';
import { RestoreService } from './backup/restore-service.js';

export type { Caller } from './accounts/caller.js';

/** Every domain service of the API, wired once when the API starts. */
export interface ApiServices {
  accounts: AccountService;
  apiKeys: ApiKeyService;
  bots: BotService;
  brokerUsers: BrokerUserService;
  /** The pre-filled bridge script: the owner's download and the phone's single-use link. */
  bridgeScripts: BridgeScriptService;
  /** Whether a bot's phone is connected, and the tenant's phones awaiting approval. */
  phones: PhoneStatusService;
  approvals: ApprovalService;
  commands: CommandService;
  messages: MessageService;
  logs: LogService;
  stats: StatsService;
  runs: RunService;
  usage: UsageService;
  tenants: TenantAdminService;
  secrets: SecretService;
  /** Schedules: a command run in KST, its reply sent to chosen rooms. */
  schedules: ScheduleService;
  /** The tenant's egress domain allowlist (sandbox code on a plan with network). */
  egress: EgressService;
  waiter: DispatchWaiter;
  /** Admin metrics and dead letters (started and stopped with the API). */
  ops: AdminOps;
  /** The API's own broker connection (GET /admin/broker). */
  broker: BrokerStatus;
  /** Failed-login and signup brakes, counted in PostgreSQL (shared by every API process). */
  authLimits: AuthLimits;
  /** The command editor's pattern test and HTTP test call. */
  editor: EditorService;
  /** What a room reads when the tenant's code fails. */
  errorReply: ErrorReplyService;
  /** The home page's first-run checklist. */
  onboarding: OnboardingService;
  /** The bot's official KakaoTalk channel: its settings and the skill server (`POST /kakao/skill/:skillKey`). */
  kakao: KakaoServices;
  /** The 데이터 page: the tenant's own tables (its schema, under its role and quota). */
  tables: TableService;
  /** Sheets (CSV, XLSX) into tenant tables. */
  imports: ImportService;
  /** The tenant's store keys (kb_store through its quota functions). */
  store: StoreService;
  /** The tenant's export file (GET /export). */
  exports: ExportService;
  /** An export file into an empty account (POST /import). */
  restores: RestoreService;
}

export function createServices(deps: {
  orm: Orm;
  conn: BrokerConnection;
  publisher: Publisher;
  brokerPrefix: string;
  secrets: SecretBox;
  guardUrl: UrlGuard;
  sessionTtlMs: number;
  runners: RunnerClient;
  logger: Logger;
  /** Wall clock of the daily quotas (KST day); tests inject a day. */
  clock?: () => number;
  /** Outbound policy of the HTTP test call (the dispatcher's rules). */
  egress: EgressPolicy;
  /** The API's /metrics registry (the Kakao channel's counters). */
  registry?: Registry;
  /** A plain pg pool of the platform's user for tenant tables (it may create the tenant's schema and role). */
  dataPool: Pool;
  /** Makes bot-server RabbitMQ users (rabbitmqctl or the management API). */
  brokerAdmin: BrokerAdmin;
}): ApiServices {
  const data = new DataRepository(deps.dataPool);
  const notifier = new ChangeNotifier(deps.publisher);
  const waiter = new DispatchWaiter(deps.conn, deps.publisher, deps.brokerPrefix);
  const secrets = new SecretService(deps.orm, deps.secrets, notifier, deps.logger);
  const usage = new UsageService(deps.orm, deps.clock);
  const accounts = new AccountService(deps.orm, deps.sessionTtlMs, notifier);
  const runs = new RunService(deps.orm, deps.runners, deps.logger, (tenantId) => secrets.valuesOf(tenantId), usage);
  const messages = new MessageService(deps.orm, deps.publisher, waiter);
  const tables = new TableService(deps.dataPool, data);
  return {
    accounts,
    apiKeys: new ApiKeyService(deps.orm, notifier),
    bots: new BotService(deps.orm, deps.secrets, notifier),
    brokerUsers: new BrokerUserService(deps.conn, deps.brokerPrefix, deps.brokerAdmin),
    bridgeScripts: new BridgeScriptService(deps.orm, deps.secrets, deps.clock),
    phones: new PhoneStatusService(deps.orm, deps.clock),
    approvals: new ApprovalService(deps.orm, notifier),
    commands: new CommandService(deps.orm, deps.secrets, deps.guardUrl, notifier, (caller, code) => runs.assertClean(caller, code)),
    messages,
    logs: new LogService(deps.orm),
    stats: new StatsService(deps.orm, deps.clock),
    runs,
    usage,
    tenants: new TenantAdminService(deps.orm, accounts, usage, notifier),
    secrets,
    schedules: new ScheduleService(deps.orm, deps.clock ?? Date.now),
    egress: new EgressService(deps.orm, notifier),
    waiter,
    ops: new AdminOps({ orm: deps.orm, conn: deps.conn, publisher: deps.publisher, brokerPrefix: deps.brokerPrefix, runners: deps.runners, logger: deps.logger }),
    broker: new BrokerStatus(deps.conn, deps.runners),
    authLimits: new AuthLimits(new PgAttemptStore(deps.dataPool), deps.clock),
    errorReply: new ErrorReplyService(deps.orm, notifier),
    editor: new EditorService(
      deps.egress,
      (tenantId) => secrets.valuesOf(tenantId),
      async (tenantId) => (await accounts.plan(tenantId)).timeoutMaxMs,
      deps.clock,
    ),
    onboarding: new OnboardingService(new OnboardingRepository(deps.orm)),
    tables,
    exports: new ExportService(deps.dataPool, deps.secrets, tables),
    restores: new RestoreService(deps.dataPool, data, deps.secrets, deps.guardUrl, notifier, deps.clock),
    imports: new ImportService(deps.dataPool, data),
    store: new StoreService(data),
    kakao: createKakao({ orm: deps.orm, secrets: deps.secrets, messages, egress: deps.egress, logger: deps.logger, registry: deps.registry }),
  };
}
