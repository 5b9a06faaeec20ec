import { LockMode } from '@mikro-orm/core';
import { Command, CommandVersion } from '../db/entities/index.js';
import type { Em, Orm } from '../db/em.js';
import { applyState, stateFromSnapshot, stateOf, type CommandState } from './command-state.js';

/**
 * A tenant's commands (`kb_commands`; deleted ones are kept, with
 * `deleted_at`, for their logs) and their version history
 * (`kb_command_versions`: every save writes the next version with a
 * snapshot of its state). Every method takes the tenant id first and sees
 * live commands only.
 */
export class CommandRepository {
  constructor(private readonly orm: Orm) {}

  /** Inserts the command as version 1, with its snapshot, in one transaction. */
  async create(tenantId: string, userId: string, state: CommandState): Promise<Command> {
    return this.orm.em.fork().transactional(async (tx) => {
      const now = new Date();
      const cmd = tx.create(Command, { tenantId, ownerId: userId, version: 1, deletedAt: null, createdAt: now, updatedAt: now } as Command);
      applyState(cmd, state);
      await tx.flush();
      snapshot(tx, cmd, userId, null);
      return cmd;
    });
  }

  /** By id. */
  list(tenantId: string): Promise<Command[]> {
    return this.orm.em.fork().find(Command, { tenantId, deletedAt: null }, { orderBy: { id: 'asc' } });
  }

  get(tenantId: string, id: number): Promise<Command | null> {
    return live(this.orm.em.fork(), tenantId, id);
  }

  /**
   * Writes the next version of a command in one transaction that holds its
   * row lock from the read to the commit: `next` gets the state as stored
   * (and a reader of this command's versions) and returns the new state, or
   * throws (nothing is written). `restoredFrom`: a rollback's source
   * version. Null when the tenant has no such command.
   */
  async revise(
    tenantId: string,
    id: number,
    userId: string,
    next: (current: CommandState, versionState: (version: number) => Promise<CommandState | null>) => Promise<CommandState>,
    restoredFrom: number | null = null,
  ): Promise<Command | null> {
    return this.orm.em.fork().transactional(async (tx) => {
      const cmd = await live(tx, tenantId, id, true);
      if (!cmd) return null;
      const versionState = async (version: number) => {
        const old = await tx.findOne(CommandVersion, { commandId: id, version });
        return old ? stateFromSnapshot(old.snapshot) : null;
      };
      applyState(cmd, await next(stateOf(cmd), versionState));
      cmd.version += 1;
      cmd.updatedAt = new Date();
      snapshot(tx, cmd, userId, restoredFrom);
      return cmd;
    });
  }

  /** Marks the command deleted (its row, logs and versions stay); false when the tenant has no such command. */
  async softDelete(tenantId: string, id: number): Promise<boolean> {
    const em = this.orm.em.fork();
    const cmd = await live(em, tenantId, id);
    if (!cmd) return false;
    cmd.deletedAt = new Date();
    cmd.updatedAt = new Date();
    await em.flush();
    return true;
  }

  /** Newest first; null when the tenant has no such command. */
  async versions(tenantId: string, id: number): Promise<CommandVersion[] | null> {
    const em = this.orm.em.fork();
    if (!(await live(em, tenantId, id))) return null;
    return em.find(CommandVersion, { commandId: id }, { orderBy: { version: 'desc' } });
  }
}

function live(em: Em, tenantId: string, id: number, lock = false): Promise<Command | null> {
  return em.findOne(Command, { id, tenantId, deletedAt: null }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {});
}

function snapshot(em: Em, cmd: Command, userId: string, restoredFrom: number | null): void {
  em.create(CommandVersion, {
    commandId: cmd.id,
    version: cmd.version,
    snapshot: stateOf(cmd) as unknown as Record<string, unknown>,
    createdBy: userId,
    restoredFrom,
    createdAt: new Date(),
  });
}
