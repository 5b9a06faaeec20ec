import { loadModule, parseSync } from 'libpg-query';
import { ALLOWED_FUNCTIONS } from './allowed-functions.js';
import { tenantDataErrors, type TenantDataError } from './tenant-data-errors.js';

/**
 * The SQL guard of tenant tables (README, "The guard"): tenant SQL is
 * parsed by PostgreSQL's own parser (libpg-query, compiled to WASM, so the
 * guard reads the statement exactly as the server will) and refused unless
 * it is ONE statement of an allowed kind, touching relations of the
 * tenant's own schema only and calling only allowlisted functions. The
 * guard is the first of two walls: the statement then runs under the
 * tenant's role, which has no rights outside its schema (tenant-statement.ts).
 */

export type StatementKind =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'create_table'
  | 'create_table_as'
  | 'alter_table'
  | 'rename'
  | 'drop'
  | 'create_index'
  | 'truncate';

export type Guarded = { ok: true; kind: StatementKind; writes: boolean } | { ok: false; error: TenantDataError };

/** A statement longer than this is not a bot's SQL (and the parse of it would hold the runner's thread). */
export const SQL_MAX_CHARS = 20_000;

const KINDS: Record<string, StatementKind> = {
  SelectStmt: 'select',
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  CreateStmt: 'create_table',
  CreateTableAsStmt: 'create_table_as',
  AlterTableStmt: 'alter_table',
  RenameStmt: 'rename',
  DropStmt: 'drop',
  IndexStmt: 'create_index',
  TruncateStmt: 'truncate',
};

/** What a refused statement is called in its error (the node's name otherwise). */
const REFUSED_NAMES: Record<string, string> = {
  VariableSetStmt: 'SET/RESET',
  VariableShowStmt: 'SHOW',
  CopyStmt: 'COPY',
  DoStmt: 'DO',
  CreateFunctionStmt: 'CREATE FUNCTION',
  GrantStmt: 'GRANT/REVOKE',
  GrantRoleStmt: 'GRANT/REVOKE (role)',
  ListenStmt: 'LISTEN',
  NotifyStmt: 'NOTIFY',
  VacuumStmt: 'VACUUM/ANALYZE',
  TransactionStmt: 'BEGIN/COMMIT/ROLLBACK',
  ExplainStmt: 'EXPLAIN',
  CreateSchemaStmt: 'CREATE SCHEMA',
  ViewStmt: 'CREATE VIEW',
  CreateRoleStmt: 'CREATE ROLE',
  AlterRoleStmt: 'ALTER ROLE',
  LockStmt: 'LOCK',
  CallStmt: 'CALL',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  CreateExtensionStmt: 'CREATE EXTENSION',
  AlterOwnerStmt: 'ALTER ... OWNER',
  CreateTrigStmt: 'CREATE TRIGGER',
  RuleStmt: 'CREATE RULE',
  LoadStmt: 'LOAD',
  CheckPointStmt: 'CHECKPOINT',
  DiscardStmt: 'DISCARD',
};

const ALTER_TABLE_CMDS = new Set([
  'AT_AddColumn',
  'AT_ColumnDefault',
  'AT_DropNotNull',
  'AT_SetNotNull',
  'AT_DropColumn',
  'AT_AlterColumnType',
  'AT_AddConstraint',
  'AT_DropConstraint',
  'AT_ValidateConstraint',
  'AT_AlterConstraint',
  'AT_AddIdentity',
  'AT_SetIdentity',
  'AT_DropIdentity',
]);
const RENAMABLE = new Set(['OBJECT_TABLE', 'OBJECT_COLUMN', 'OBJECT_INDEX', 'OBJECT_TABCONSTRAINT']);
const DROPPABLE = new Set(['OBJECT_TABLE', 'OBJECT_INDEX']);
const SAMPLE_METHODS = new Set(['system', 'bernoulli']);

let loaded: Promise<void> | null = null;

/** The parser's WASM, loaded once per process (tens of milliseconds; works offline: it ships in the package). */
export function loadSqlGuard(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/** `sql` as the tenant whose schema is `schema` may run it, or the named error that refuses it. */
export async function guardStatement(sql: string, schema: string): Promise<Guarded> {
  await loadSqlGuard();
  return guardStatementSync(sql, schema);
}

/**
 * Verdicts of recent statements: tenant code sends the same few statements
 * over and over (parameters apart), and a verdict depends only on the text
 * and the schema. Bounded in entries and in the text kept (the parse of an
 * update is ~70 us; a hit is a map lookup).
 */
const verdicts = new Map<string, Guarded>();
const VERDICTS_MAX = 2000;
const VERDICT_SQL_MAX = 2000;

/** guardStatement once loadSqlGuard() has resolved. */
export function guardStatementSync(sql: string, schema: string): Guarded {
  if (sql.length > VERDICT_SQL_MAX) return judge(sql, schema);
  const key = `${schema}\u0000${sql}`;
  let verdict = verdicts.get(key);
  if (!verdict) {
    verdict = judge(sql, schema);
    if (verdicts.size >= VERDICTS_MAX) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(key, verdict);
  }
  return verdict;
}

function judge(sql: string, schema: string): Guarded {
  const refuse = (ko: string, en: string): Guarded => ({ ok: false, error: tenantDataErrors.forbidden(ko, en) });
  if (sql.length > SQL_MAX_CHARS) return { ok: false, error: tenantDataErrors.invalid(`SQL은 ${SQL_MAX_CHARS}자까지 쓸 수 있습니다`, `SQL of at most ${SQL_MAX_CHARS} characters`) };
  let stmts: Array<{ stmt?: Record<string, unknown> }>;
  try {
    stmts = (parseSync(sql) as { stmts?: Array<{ stmt?: Record<string, unknown> }> }).stmts ?? [];
  } catch (err) {
    return { ok: false, error: tenantDataErrors.syntax(String((err as Error).message ?? err).slice(0, 200)) };
  }
  if (stmts.length !== 1 || !stmts[0]!.stmt) return refuse('한 번에 SQL 문 하나만 실행할 수 있습니다', 'exactly one statement per call');
  const top = stmts[0]!.stmt;
  const nodeName = Object.keys(top)[0]!;
  const node = top[nodeName] as Record<string, unknown>;
  const kind = KINDS[nodeName];
  if (!kind) {
    const name = REFUSED_NAMES[nodeName] ?? nodeName.replace(/Stmt$/, '').toUpperCase();
    return refuse(`${name} 문은 쓸 수 없습니다`, `${name} statements are not allowed`);
  }
  const shape = kindProblem(nodeName, node, schema);
  if (shape) return refuse(shape[0], shape[1]);
  const problem = walk(top, schema);
  if (problem) return refuse(problem[0], problem[1]);
  return { ok: true, kind, writes: kind !== 'select' };
}

type Problem = [ko: string, en: string] | null;

/** What the statement's own kind allows (beyond what every node is checked for). */
function kindProblem(name: string, node: Record<string, unknown>, schema: string): Problem {
  switch (name) {
    case 'SelectStmt':
      return node.intoClause ? ['SELECT INTO는 쓸 수 없습니다 (CREATE TABLE AS를 쓰세요)', 'SELECT INTO is not allowed (use CREATE TABLE AS)'] : null;
    case 'CreateStmt':
      return node.tablespacename || node.ofTypename ? ['테이블스페이스나 타입으로 만드는 표는 쓸 수 없습니다', 'tablespaces and typed tables are not allowed'] : null;
    case 'CreateTableAsStmt':
      return node.objtype === 'OBJECT_TABLE' ? null : ['구체화된 뷰는 쓸 수 없습니다', 'materialized views are not allowed'];
    case 'AlterTableStmt': {
      if (node.objtype !== 'OBJECT_TABLE') return ['ALTER TABLE만 쓸 수 있습니다', 'only ALTER TABLE is allowed'];
      for (const c of (node.cmds as Array<{ AlterTableCmd?: { subtype?: string } }>) ?? []) {
        const sub = c.AlterTableCmd?.subtype ?? '?';
        if (!ALTER_TABLE_CMDS.has(sub)) return [`이 ALTER TABLE 동작은 쓸 수 없습니다 (${sub})`, `this ALTER TABLE action is not allowed (${sub})`];
      }
      return null;
    }
    case 'RenameStmt':
      return RENAMABLE.has(String(node.renameType)) ? null : ['표, 열, 색인, 제약 조건의 이름만 바꿀 수 있습니다', 'only tables, columns, indexes and constraints can be renamed'];
    case 'DropStmt': {
      if (!DROPPABLE.has(String(node.removeType))) return ['DROP TABLE과 DROP INDEX만 쓸 수 있습니다', 'only DROP TABLE and DROP INDEX are allowed'];
      for (const o of (node.objects as Array<{ List?: { items?: unknown[] } }>) ?? []) {
        const parts = (o.List?.items ?? []).map(sval);
        if (parts.length === 0 || parts.length > 2 || (parts.length === 2 && parts[0] !== schema)) return otherSchema(parts.slice(0, -1).join('.'));
        if (parts.length === 1 && parts[0]!.startsWith('pg_')) return catalog(parts[0]!);
      }
      return null;
    }
    case 'IndexStmt':
      if (node.concurrent) return ['CREATE INDEX CONCURRENTLY는 쓸 수 없습니다', 'CREATE INDEX CONCURRENTLY is not allowed'];
      return node.tableSpace ? ['테이블스페이스는 쓸 수 없습니다', 'tablespaces are not allowed'] : null;
    default:
      return null;
  }
}

/**
 * Every node of the tree: relations, functions, types and operators it
 * names. Nodes are recognised by their shape, not by the key they hang
 * under: the parser's JSON wraps a node in its type name in lists
 * (`{"RangeVar": {...}}`) but not in typed fields (InsertStmt's
 * `relation`, TypeCast's `typeName`), and a check keyed on the wrapper
 * alone would miss `insert into other.items`.
 */
function walk(value: unknown, schema: string): Problem {
  if (Array.isArray(value)) {
    for (const v of value) {
      const p = walk(v, schema);
      if (p) return p;
    }
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const node = value as Record<string, unknown>;
  const p = nodeProblem(node, schema);
  if (p) return p;
  for (const child of Object.values(node)) {
    const q = walk(child, schema);
    if (q) return q;
  }
  return null;
}

const TABLESPACE_FIELDS = ['tablespacename', 'tableSpace', 'indexspace', 'tableSpaceName'];

function nodeProblem(n: Record<string, unknown>, schema: string): Problem {
  for (const f of TABLESPACE_FIELDS) if (n[f]) return ['테이블스페이스는 쓸 수 없습니다', 'tablespaces are not allowed'];
  if (typeof n.relname === 'string') {
    // A RangeVar: a table, wherever it is named (FROM, INSERT INTO, REFERENCES, CREATE TABLE, INDEX ON, ...).
    const rel = n.relname;
    if (n.catalogname) return otherSchema(`${String(n.catalogname)}.${String(n.schemaname ?? '')}`);
    if (n.schemaname && n.schemaname !== schema) return otherSchema(String(n.schemaname));
    if (!n.schemaname && rel.startsWith('pg_')) return catalog(rel);
    if (n.relpersistence === 't') return ['임시 표는 쓸 수 없습니다', 'temporary tables are not allowed'];
    return null;
  }
  if (Array.isArray(n.funcname)) {
    const parts = n.funcname.map(sval);
    const fn = parts[parts.length - 1] ?? '';
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog')) return [`함수 ${parts.join('.')}()는 쓸 수 없습니다`, `function ${parts.join('.')}() is not allowed`];
    if (!ALLOWED_FUNCTIONS.has(fn)) return [`함수 ${fn}()는 쓸 수 없습니다`, `function ${fn}() is not allowed`];
    return null;
  }
  if (Array.isArray(n.names) && 'typemod' in n) {
    // A TypeName (casts, column types).
    const parts = n.names.map(sval);
    const t = parts[parts.length - 1] ?? '';
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog')) return [`타입 ${parts.join('.')}는 쓸 수 없습니다`, `type ${parts.join('.')} is not allowed`];
    // regclass, regproc, regrole...: casts that look names up in the catalog (another tenant's tables included).
    if (t.startsWith('reg') || t.startsWith('pg_')) return [`타입 ${t}는 쓸 수 없습니다`, `type ${t} is not allowed`];
    return null;
  }
  if (typeof n.kind === 'string' && n.kind.startsWith('AEXPR') && Array.isArray(n.name)) {
    const parts = n.name.map(sval);
    if (parts.length > 1 && parts[0] !== 'pg_catalog') return [`연산자 ${parts.join('.')}는 쓸 수 없습니다`, `operator ${parts.join('.')} is not allowed`];
    return null;
  }
  if (Array.isArray(n.fields) && 'location' in n) {
    // A ColumnRef: schema.table.column names a schema too.
    const parts = n.fields.map(sval);
    if (parts.length >= 4) return otherSchema(parts[0]!);
    if (parts.length === 3 && parts[0] !== schema) return otherSchema(parts[0]!);
    return null;
  }
  if ('ctequery' in n) {
    const q = n.ctequery as Record<string, unknown> | undefined;
    return q && !('SelectStmt' in q) ? ['WITH 안에서는 SELECT만 쓸 수 있습니다', 'only SELECT is allowed inside WITH'] : null;
  }
  if (typeof n.op === 'string' && n.op.startsWith('IS_XML')) {
    // XML functions (xmlparse, xmlelement...): libxml parsing of tenant text is not a bot's need, and not a surface worth keeping.
    return ['XML 함수는 쓸 수 없습니다', 'XML functions are not allowed'];
  }
  if (Array.isArray(n.method) && 'relation' in n) {
    const parts = n.method.map(sval);
    return parts.length === 1 && SAMPLE_METHODS.has(parts[0]!) ? null : ['TABLESAMPLE은 SYSTEM과 BERNOULLI만 쓸 수 있습니다', 'TABLESAMPLE allows SYSTEM and BERNOULLI only'];
  }
  return null;
}

function sval(v: unknown): string {
  const s = (v as { String?: { sval?: string } } | undefined)?.String?.sval;
  return typeof s === 'string' ? s : '*';
}

function otherSchema(name: string): Problem {
  return [`다른 스키마(${name})는 쓸 수 없습니다. 내 표만 쓸 수 있습니다`, `schema ${name} is not yours: only your own tables`];
}

function catalog(rel: string): Problem {
  return [`시스템 카탈로그(${rel})는 읽을 수 없습니다`, `system catalog ${rel} is not accessible`];
}
