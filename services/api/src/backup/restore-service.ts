import { KbError, nextFire, parseCron, type Pool, type SecretBox } from '@domaeka/core';
import { ensureTenantSchema, listTenantTables, runTenantBatch } from '@domaeka/tenant-data';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import { checkCode, checkHeaders, checkPattern, checkUrlShape, normaliseCommandWords } from '../commands/command-rules.js';
import type { UrlGuard } from '../commands/command-service.js';
import type { CommandState, StoredTarget } from '../commands/command-state.js';
import { checkFixedReply, type FixedReplyInput } from '../commands/reply-rules.js';
import { DataRepository, SET_SQL, STORE_VALUE_MAX_BYTES } from '../data/data-repository.js';
import { apiErrors } from '../errors.js';
import { MAX_SCHEDULES_PER_TENANT } from '../schedules/schedule-rules.js';
import type { ImportSummary } from '@domaeka/broker/contracts';
import { EXPORT_FORMAT, EXPORT_VERSION, type ExportFile, type ExportTarget } from './backup-format.js';
import { dropStatements, tableStatements } from './table-restore.js';
import { insertCommand, insertSchedule, type RoomChoice } from './restore-sql.js';

/**
 * `POST /import`: an export file into an EMPTY account. Everything is
 * checked first (format, commands, cron, table types); then the tables go
 * in through the tenant's role and quota in one transaction
 * (runTenantBatch: over the quota or one bad cell and no table exists);
 * then the platform's rows (commands with their versions, schedules, store
 * keys, egress domains, error reply) in ONE transaction on the platform's
 * pool. Two databases roles, so two transactions: should the second fail,
 * the tables just made are dropped again, and the account is as empty as
 * it was.
 */
export class RestoreService {
  constructor(
    private readonly pool: Pool,
    private readonly repo: DataRepository,
    private readonly secrets: SecretBox,
    private readonly guardUrl: UrlGuard,
    private readonly notifier: ChangeNotifier,
    private readonly clock: () => number = Date.now,
  ) {}

  async import(caller: Caller, file: ExportFile): Promise<ImportSummary> {
    if (file.format !== EXPORT_FORMAT) throw apiErrors.exportFile('도매까 내보내기 파일이 아닙니다 / not a Domaeka export file');
    if (file.version !== EXPORT_VERSION) throw apiErrors.exportFile(`지원하지 않는 파일 버전입니다 (${file.version}, 읽을 수 있는 버전: ${EXPORT_VERSION}) / unsupported export version`);
    const tenantId = caller.tenantId;
    const schema = await ensureTenantSchema(this.pool, tenantId);
    await this.assertEmpty(tenantId, schema);

    const headersToFill: ImportSummary['headersToFill'] = [];
    const commands = [];
    const words = new Set<string>();
    for (const c of file.commands) {
      const state = await this.state(c, true);
      if (words.has(state.command)) throw apiErrors.exportFile(`명령어 "${state.command}"이(가) 파일에 두 번 있습니다 / duplicate command`);
      words.add(state.command);
      for (const [header, value] of c.target.type === 'http' ? Object.entries(c.target.headers) : []) if (value === null) headersToFill.push({ command: state.command, header });
      const versions = [];
      for (const v of c.versions) versions.push({ version: v.version, createdAt: v.createdAt, restoredFrom: v.restoredFrom, state: await this.state(v, false) });
      commands.push({ state, versions });
    }
    if (file.schedules.length > MAX_SCHEDULES_PER_TENANT) throw apiErrors.invalidSchedule(`일정은 ${MAX_SCHEDULES_PER_TENANT}개까지 만들 수 있습니다 / at most ${MAX_SCHEDULES_PER_TENANT} schedules`);
    for (const s of file.schedules) parseCron(s.cron);
    for (const s of file.store) {
      if (Buffer.byteLength(JSON.stringify(s.value ?? null), 'utf8') > STORE_VALUE_MAX_BYTES) throw apiErrors.exportFile(`저장소 키 "${s.key}"의 값이 너무 큽니다 / store value too large`);
    }
    const statements = tableStatements(file.tables);
    const limits = await this.repo.limits(tenantId);

    if (statements.length) {
      const outcome = await runTenantBatch(this.pool, schema, statements, limits.tables);
      if (!outcome.ok) throw apiErrors.tenantData(outcome.error);
    }
    let summary: Omit<ImportSummary, 'message' | 'headersToFill' | 'tables' | 'secretsToFill'>;
    try {
      summary = await this.platformRows(caller, file, commands, limits);
    } catch (err) {
      if (file.tables.length) await runTenantBatch(this.pool, schema, dropStatements(file.tables), limits.tables);
      throw err;
    }
    for (const entity of ['commands', 'egress', 'bot'] as const) this.notifier.changed(entity, tenantId, null);
    const existing = new Set((await this.pool.query<{ name: string }>('select name from tenant_secrets where tenant_id = $1', [tenantId])).rows.map((r) => r.name));
    const secretsToFill = file.secrets.filter((n) => !existing.has(n));
    const tables = file.tables.map((t) => ({ name: t.name, rows: t.rows.length }));
    const skipped = summary.schedules.skipped.length;
    return {
      message:
        `가져왔습니다: 명령어 ${summary.commands}개(버전 ${summary.versions}개), 일정 ${summary.schedules.imported}개${skipped ? `(방이 없어 건너뜀 ${skipped}개)` : ''}, ` +
        `저장소 키 ${summary.storeKeys}개, 표 ${tables.length}개` +
        (secretsToFill.length ? `. 비밀 값을 다시 입력해 주세요: ${secretsToFill.join(', ')}` : ''),
      ...summary,
      tables,
      secretsToFill,
      headersToFill,
    };
  }

  private async assertEmpty(tenantId: string, schema: string): Promise<void> {
    const { rows } = await this.pool.query<{ commands: number; store: number }>(
      `select (select count(*)::int from kb_commands where tenant_id = $1 and deleted_at is null) as commands,
              (select count(*)::int from kb_store where tenant_id = $1 and (expires_at is null or expires_at > now())) as store`,
      [tenantId],
    );
    if (rows[0]!.commands > 0) throw apiErrors.accountNotEmpty('명령어');
    if (rows[0]!.store > 0) throw apiErrors.accountNotEmpty('저장소 키');
    if ((await listTenantTables(this.pool, schema)).length > 0) throw apiErrors.accountNotEmpty('표');
  }

  /** A command (or one of its versions) of the file checked as the editor checks a save; `guard`: the egress policy for the current target. */
  private async state(c: { command: string; pattern: string | null; description: string | null; timeoutMs: number; isActive: boolean; target: ExportTarget }, guard: boolean): Promise<CommandState> {
    const target = this.target(c.target);
    if (guard && target.type === 'http') await this.guardUrl(target.url);
    if (guard && target.type === 'reply' && target.imageUrl) await this.guardUrl(target.imageUrl);
    return {
      command: normaliseCommandWords(c.command),
      pattern: checkPattern(c.pattern),
      description: c.description === '' ? null : c.description,
      timeoutMs: c.timeoutMs,
      isActive: c.isActive,
      target,
    };
  }

  private target(t: ExportTarget): StoredTarget {
    if (t.type === 'sandbox') return { type: 'sandbox', language: 'python', code: checkCode(t.code) };
    if (t.type === 'reply') return checkFixedReply(t as FixedReplyInput);
    const kept = Object.fromEntries(Object.entries(t.headers).filter((e): e is [string, string] => e[1] !== null));
    const headers = checkHeaders(kept);
    const method = t.method.toUpperCase() as 'POST';
    return { type: 'http', url: checkUrlShape(t.url), method, headersEnc: Object.keys(headers).length ? this.secrets.seal(JSON.stringify(headers)) : null };
  }

  /** Commands, versions, schedules, store keys, egress domains and the error reply in one transaction. */
  private async platformRows(
    caller: Caller,
    file: ExportFile,
    commands: { state: CommandState; versions: { version: number; createdAt: string; restoredFrom: number | null; state: CommandState }[] }[],
    limits: Awaited<ReturnType<DataRepository['limits']>>,
  ) {
    const tenantId = caller.tenantId;
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      // One import at a time per account: the second waits, then finds it no longer empty.
      await client.query(`select pg_advisory_xact_lock(hashtext('kb_import:' || $1))`, [tenantId]);
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from kb_commands where tenant_id = $1 and deleted_at is null', [tenantId]);
      if (rows[0]!.n > 0) throw apiErrors.accountNotEmpty('명령어');
      const ids = new Map<string, string>();
      let versions = 0;
      for (const c of commands) {
        ids.set(c.state.command, await insertCommand(client, tenantId, caller.userId, c.state, c.versions));
        versions += Math.max(1, c.versions.length);
      }
      const choices = (
        await client.query<RoomChoice>(
          `select r.bot_id::text as bot_id, b.name as bot_name, r.channel_id, r.name as room from rooms r join bots b on b.id = r.bot_id where b.tenant_id = $1 and r.status = 'approved'`,
          [tenantId],
        )
      ).rows;
      const schedules: ImportSummary['schedules'] = { imported: 0, skipped: [] };
      for (const s of file.schedules) {
        const commandId = ids.get(normaliseCommandWords(s.command));
        const rooms = s.rooms.flatMap((want) => {
          const sameBot = choices.filter((r) => r.bot_name === want.botName && r.room === want.room);
          return sameBot.length ? sameBot : choices.filter((r) => r.room === want.room);
        });
        const unique = [...new Map(rooms.map((r) => [`${r.bot_id}/${r.channel_id}`, r])).values()];
        if (!commandId || unique.length === 0) {
          schedules.skipped.push({ command: s.command, label: s.label, rooms: s.rooms });
          continue;
        }
        const next = s.enabled ? nextFire(parseCron(s.cron), this.clock()) : null;
        await insertSchedule(client, tenantId, commandId, s, unique, next === null ? null : new Date(next));
        schedules.imported++;
      }
      let storeKeys = 0;
      for (const s of file.store) {
        const ttlMs = s.expiresAt ? Date.parse(s.expiresAt) - this.clock() : null;
        if (ttlMs !== null && !(ttlMs > 0)) continue;
        const json = JSON.stringify(s.value ?? null);
        const r = await client.query<{ status: string }>(SET_SQL, [tenantId, s.key, json, Buffer.byteLength(json, 'utf8'), ttlMs === null ? null : Math.ceil(ttlMs), limits.storeMaxKeys, limits.storeMaxBytes]);
        if (r.rows[0]!.status !== 'ok') {
          throw new KbError('KB_ERR_STORAGE_QUOTA', `저장 공간이 부족합니다: 이 요금제는 키 ${limits.storeMaxKeys}개, 값 ${Math.round(limits.storeMaxBytes / 1024)} KiB까지입니다 (가져오지 않았습니다) / storage quota: nothing imported`, 409);
        }
        storeKeys++;
      }
      for (const domain of file.egressDomains) {
        await client.query('insert into kb_egress_domains (tenant_id, domain) values ($1, $2) on conflict do nothing', [tenantId, domain]);
      }
      if (file.errorReply) await client.query('update tenants set error_reply = $2 where id = $1', [tenantId, file.errorReply]);
      await client.query('commit');
      return { commands: commands.length, versions, schedules, storeKeys };
    } catch (err) {
      await client.query('rollback').catch((e: Error) => (broken = e));
      if (err instanceof KbError) throw err;
      // A check constraint of the platform's tables (an egress domain, the error reply's length): the file, not the server.
      if ((err as { code?: string }).code === '23514') throw apiErrors.exportFile(`파일의 값이 올바르지 않습니다 / a value of the file is refused: ${(err as Error).message}`);
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
