import type { CommandVersionView, CommandView, HttpMethod } from '@domaeka/broker/contracts';
import { type SecretBox } from '@domaeka/core';
import { apiErrors } from '../errors.js';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import { checkCode, checkHeaders, checkPattern, checkUrlShape, normaliseCommandWords } from './command-rules.js';
import { checkFixedReply, type FixedReplyInput } from './reply-rules.js';
import { commandView, stateFromSnapshot, targetView, type CommandState, type StoredTarget } from './command-state.js';
import type { Orm } from '../db/em.js';
import { CommandRepository } from './command-repository.js';

export const DEFAULT_TIMEOUT_MS = 5000;

export type TargetInput =
  | { type: 'http'; url: string; method?: HttpMethod; headers?: Record<string, string> }
  | { type: 'sandbox'; language: 'python'; code: string }
  | ({ type: 'reply' } & FixedReplyInput);

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
  private readonly commands: CommandRepository;

  constructor(
    orm: Orm,
    private readonly secrets: SecretBox,
    private readonly guardUrl: UrlGuard,
    private readonly notifier: ChangeNotifier,
    private readonly lintCode: CodeLinter,
  ) {
    this.commands = new CommandRepository(orm);
  }

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
    const row = await this.commands.create(caller.tenantId, caller.userId, state);
    this.notifier.changed('commands', caller.tenantId, null);
    return commandView(this.secrets, row);
  }

  async list(caller: Caller): Promise<CommandView[]> {
    return (await this.commands.list(caller.tenantId)).map((r) => commandView(this.secrets, r));
  }

  async get(caller: Caller, id: number): Promise<CommandView> {
    const cmd = await this.commands.get(caller.tenantId, id);
    if (!cmd) throw apiErrors.notFound('command');
    return commandView(this.secrets, cmd);
  }

  /** Partial update. An HTTP target given without `headers` keeps the stored ones (they are never shown back). */
  async update(caller: Caller, id: number, patch: CommandPatch): Promise<CommandView> {
    // Before the transaction: the lint is a runner round trip, not to be spent holding the row lock.
    if (patch.target?.type === 'sandbox') {
      checkCode(patch.target.code);
      await this.lintTarget(caller, patch.target);
    }
    const row = await this.commands.revise(caller.tenantId, id, caller.userId, (current) =>
      this.prepare(
        {
          command: patch.command ?? current.command,
          pattern: patch.pattern !== undefined ? patch.pattern : current.pattern,
          description: patch.description !== undefined ? patch.description : current.description,
          timeoutMs: patch.timeoutMs ?? current.timeoutMs,
          isActive: patch.isActive ?? current.isActive,
        },
        patch.target ?? null,
        current.target,
      ),
    );
    if (!row) throw apiErrors.notFound('command');
    this.notifier.changed('commands', caller.tenantId, null);
    return commandView(this.secrets, row);
  }

  /** Soft delete: the row (and so its logs and versions) stays, the dispatcher stops seeing it. */
  async remove(caller: Caller, id: number): Promise<void> {
    if (!(await this.commands.softDelete(caller.tenantId, id))) throw apiErrors.notFound('command');
    this.notifier.changed('commands', caller.tenantId, null);
  }

  async versions(caller: Caller, id: number): Promise<CommandVersionView[]> {
    const rows = await this.commands.versions(caller.tenantId, id);
    if (!rows) throw apiErrors.notFound('command');
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
    const row = await this.commands.revise(
      caller.tenantId,
      id,
      caller.userId,
      async (_current, versionState) => {
        const state = await versionState(version);
        if (!state) throw apiErrors.notFound(`version ${version}`);
        // The rules (and the egress policy) may have changed since: a rollback is a save like any other.
        await this.recheck(state);
        return state;
      },
      version,
    );
    if (!row) throw apiErrors.notFound('command');
    this.notifier.changed('commands', caller.tenantId, null);
    return commandView(this.secrets, row);
  }

  /** Sandbox code is linted on a runner before it is saved (after the cheap checks). */
  private async lintTarget(caller: Caller, t: TargetInput): Promise<void> {
    if (t.type === 'sandbox') await this.lintCode(caller, t.code);
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
    if (t.type === 'reply') return checkFixedReply(t);
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
    if (s.target.type === 'reply') checkFixedReply(s.target);
    await this.guardTarget(s.target);
  }

  /** Every address the platform will call for the command: the HTTP target's URL, a fixed reply's image (fetched when the room asks). */
  private async guardTarget(t: StoredTarget): Promise<void> {
    if (t.type === 'http') await this.guardUrl(t.url);
    if (t.type === 'reply' && t.imageUrl) await this.guardUrl(t.imageUrl);
  }
}
