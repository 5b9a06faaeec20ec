import { LockMode } from '@mikro-orm/core';
import type { CommandVersionView, CommandView } from '@domaeka/broker/contracts';
import { type SecretBox } from '@domaeka/core';
import { Command, CommandVersion } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import { checkCode, checkHeaders, checkPattern, checkUrlShape, normaliseCommandWords, type HttpMethod } from './command-rules.js';
import {
  applyState,
  commandView,
  stateFromSnapshot,
  stateOf,
  targetView,
  type CommandState,
  type StoredTarget,
} from './command-state.js';
import type { Em, Orm } from '../db/em.js';

export const DEFAULT_TIMEOUT_MS = 5000;

export type TargetInput =
  | { type: 'http'; url: string; method?: HttpMethod; headers?: Record<string, string> }
  | { type: 'sandbox'; language: 'python'; code: string };

export interface CommandInput {
  command: string;
  pattern?: string | null;
  description?: string | null;
  timeoutMs?: number;
  isActive?: boolean;
  target: TargetInput;
}

export type CommandPatch = Partial<CommandInput>;

/** Throws KB_ERR_EGRESS_DENIED when a target URL points where the platform must not call. */
export type UrlGuard = (url: string) => Promise<void>;
/** Throws 400 KB_ERR_LINT when sandbox code has lint findings, 503 KB_ERR_NO_RUNNER when no runner can lint it. */
export type CodeLinter = (caller: Caller, code: string) => Promise<void>;

/**
 * Commands of a tenant with their version history. Every save is checked
 * (words, RE2 pattern, URL against the egress policy), bumps `version`,
 * writes a snapshot and tells the caches (`changed` {entity:'commands'}).
 */
export class CommandService {
  constructor(
    private readonly orm: Orm,
    private readonly secrets: SecretBox,
    private readonly guardUrl: UrlGuard,
    private readonly notifier: ChangeNotifier,
    private readonly lintCode: CodeLinter,
  ) {}

  async create(caller: Caller, input: CommandInput): Promise<CommandView> {
    const state = await this.prepare(
      {
        command: input.command,
        pattern: input.pattern ?? null,
        description: input.description ?? null,
        timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        isActive: input.isActive ?? true,
      },
      input.target,
      null,
    );
    await this.lintTarget(caller, input.target);
    const row = await this.orm.em.fork().transactional(async (tx) => {
      const now = new Date();
      const cmd = tx.create(Command, {
        tenantId: caller.tenantId,
        ownerId: caller.userId,
        version: 1,
        deletedAt: null,
        createdAt: now,
        updatedAt: now,
      } as Command);
      applyState(cmd, state);
      await tx.flush();
      this.snapshot(tx, cmd, caller);
      return cmd;
    });
    this.notifier.changed('commands', caller.tenantId, null);
    return commandView(this.secrets, row);
  }

  async list(caller: Caller): Promise<CommandView[]> {
    const rows = await this.orm.em.fork().find(Command, { tenantId: caller.tenantId, deletedAt: null }, { orderBy: { id: 'asc' } });
    return rows.map((r) => commandView(this.secrets, r));
  }

  async get(caller: Caller, id: number): Promise<CommandView> {
    return commandView(this.secrets, await this.owned(this.orm.em.fork(), caller, id));
  }

  /** Partial update. An HTTP target given without `headers` keeps the stored ones (they are never shown back). */
  async update(caller: Caller, id: number, patch: CommandPatch): Promise<CommandView> {
    // Before the transaction: the lint is a runner round trip, not to be spent holding the row lock.
    if (patch.target?.type === 'sandbox') {
      checkCode(patch.target.code);
      await this.lintTarget(caller, patch.target);
    }
    const row = await this.orm.em.fork().transactional(async (tx) => {
      const cmd = await this.owned(tx, caller, id, true);
      const current = stateOf(cmd);
      const state = await this.prepare(
        {
          command: patch.command ?? current.command,
          pattern: patch.pattern !== undefined ? patch.pattern : current.pattern,
          description: patch.description !== undefined ? patch.description : current.description,
          timeoutMs: patch.timeoutMs ?? current.timeoutMs,
          isActive: patch.isActive ?? current.isActive,
        },
        patch.target ?? null,
        current.target,
      );
      applyState(cmd, state);
      this.bump(tx, cmd, caller);
      return cmd;
    });
    this.notifier.changed('commands', caller.tenantId, null);
    return commandView(this.secrets, row);
  }

  /** Soft delete: the row (and so its logs and versions) stays, the dispatcher stops seeing it. */
  async remove(caller: Caller, id: number): Promise<void> {
    const em = this.orm.em.fork();
    const cmd = await this.owned(em, caller, id);
    cmd.deletedAt = new Date();
    cmd.updatedAt = new Date();
    await em.flush();
    this.notifier.changed('commands', caller.tenantId, null);
  }

  async versions(caller: Caller, id: number): Promise<CommandVersionView[]> {
    const em = this.orm.em.fork();
    await this.owned(em, caller, id);
    const rows = await em.find(CommandVersion, { commandId: id }, { orderBy: { version: 'desc' } });
    return rows.map((v) => {
      const s = stateFromSnapshot(v.snapshot);
      return {
        version: v.version,
        createdAt: v.createdAt,
        createdBy: v.createdBy,
        restoredFrom: v.restoredFrom,
        command: s.command,
        pattern: s.pattern,
        description: s.description,
        timeoutMs: s.timeoutMs,
        isActive: s.isActive,
        target: targetView(this.secrets, s.target),
      };
    });
  }

  /** Makes an old version current again, as a NEW version (history only grows). */
  async rollback(caller: Caller, id: number, version: number): Promise<CommandView> {
    const row = await this.orm.em.fork().transactional(async (tx) => {
      const cmd = await this.owned(tx, caller, id, true);
      const old = await tx.findOne(CommandVersion, { commandId: id, version });
      if (!old) throw apiErrors.notFound(`version ${version}`);
      const state = stateFromSnapshot(old.snapshot);
      // The rules (and the egress policy) may have changed since: a rollback is a save like any other.
      await this.recheck(state);
      applyState(cmd, state);
      this.bump(tx, cmd, caller, version);
      return cmd;
    });
    this.notifier.changed('commands', caller.tenantId, null);
    return commandView(this.secrets, row);
  }

  /** Sandbox code is linted on a runner before it is saved (after the cheap checks). */
  private async lintTarget(caller: Caller, t: TargetInput): Promise<void> {
    if (t.type === 'sandbox') await this.lintCode(caller, t.code);
  }

  private async owned(em: Em, caller: Caller, id: number, lock = false): Promise<Command> {
    const cmd = await em.findOne(
      Command,
      { id, tenantId: caller.tenantId, deletedAt: null },
      lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {},
    );
    if (!cmd) throw apiErrors.notFound('command');
    return cmd;
  }

  /** `restoredFrom`: a rollback's source version. */
  private bump(em: Em, cmd: Command, caller: Caller, restoredFrom: number | null = null): void {
    cmd.version += 1;
    cmd.updatedAt = new Date();
    this.snapshot(em, cmd, caller, restoredFrom);
  }

  private snapshot(em: Em, cmd: Command, caller: Caller, restoredFrom: number | null = null): void {
    em.create(CommandVersion, {
      commandId: cmd.id,
      version: cmd.version,
      snapshot: stateOf(cmd) as unknown as Record<string, unknown>,
      createdBy: caller.userId,
      restoredFrom,
      createdAt: new Date(),
    });
  }

  /** Validates and normalises a command; `target` null keeps `current`. */
  private async prepare(
    base: Omit<CommandState, 'target'>,
    target: TargetInput | null,
    current: StoredTarget | null,
  ): Promise<CommandState> {
    const state: CommandState = {
      ...base,
      command: normaliseCommandWords(base.command),
      pattern: checkPattern(base.pattern),
      description: base.description === '' ? null : base.description,
      target: target ? this.storeTarget(target, current) : current!,
    };
    if (target) await this.guardTarget(state.target);
    return state;
  }

  private storeTarget(t: TargetInput, current: StoredTarget | null): StoredTarget {
    if (t.type === 'sandbox') return { type: 'sandbox', language: t.language, code: checkCode(t.code) };
    const url = checkUrlShape(t.url);
    let headersEnc: string | null;
    if (t.headers !== undefined) {
      const headers = checkHeaders(t.headers);
      headersEnc = Object.keys(headers).length ? this.secrets.seal(JSON.stringify(headers)) : null;
    } else {
      headersEnc = current?.type === 'http' ? current.headersEnc : null;
    }
    return { type: 'http', url, method: t.method ?? 'POST', headersEnc };
  }

  private async recheck(s: CommandState): Promise<void> {
    normaliseCommandWords(s.command);
    checkPattern(s.pattern);
    if (s.target.type === 'http') checkUrlShape(s.target.url);
    await this.guardTarget(s.target);
  }

  private async guardTarget(t: StoredTarget): Promise<void> {
    if (t.type === 'http') await this.guardUrl(t.url);
  }
}
