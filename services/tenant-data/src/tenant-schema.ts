import type pg from 'pg';
import { GATEWAY_ROLE, TENANT_SCHEMA_PATTERN, tenantSchemaName } from './naming.js';

/** Schemas this process has made sure of, per pool (a tenant's first statement pays the few ms, the rest nothing). */
const ensured = new WeakMap<pg.Pool, Set<string>>();

/**
 * Makes the tenant's schema and role exist (idempotent), and returns the
 * schema's name. The schema belongs to the platform's user; the tenant's
 * role (NOLOGIN, NOINHERIT) gets USAGE and CREATE on it and nothing else,
 * so it owns exactly the tables it creates there. Under a per-database
 * advisory lock, so two runners making the same tenant's schema at once
 * take turns; roles are cluster-wide (another database of the cluster may
 * make the same role at the same moment), so a duplicate role is taken as
 * made. The gateway role (naming.ts) becomes a member when it exists.
 */
export async function ensureTenantSchema(pool: pg.Pool, tenantId: string): Promise<string> {
  const schema = tenantSchemaName(tenantId);
  let done = ensured.get(pool);
  if (!done) ensured.set(pool, (done = new Set()));
  if (done.has(schema)) return schema;
  try {
    await createSchema(pool, schema);
  } catch {
    // Two databases of one cluster granting the same role at once can fail with "tuple concurrently updated": once more.
    await createSchema(pool, schema);
  }
  done.add(schema);
  return schema;
}

/** Forgets what this process made sure of (a test that dropped a schema). */
export function forgetTenantSchemas(pool: pg.Pool): void {
  ensured.delete(pool);
}

async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  // Identifiers cannot be parameters: the name is checked to be one naming.ts makes (t_ + 16 hex) before it is spliced.
  if (!TENANT_SCHEMA_PATTERN.test(schema)) throw new Error(`not a tenant schema name: ${schema}`);
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtext('kb_tenant_schema'), hashtext($1))`, [schema]);
    await client.query(`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = '${schema}') then
          begin
            create role ${schema} nologin noinherit;
          exception when duplicate_object or unique_violation then null;
          end;
        end if;
        if exists (select 1 from pg_roles where rolname = '${GATEWAY_ROLE}')
           and not pg_has_role('${GATEWAY_ROLE}', '${schema}', 'member') then
          grant ${schema} to ${GATEWAY_ROLE};
        end if;
      end $$`);
    await client.query(`create schema if not exists ${schema}`);
    await client.query(`revoke all on schema ${schema} from public`);
    await client.query(`grant usage, create on schema ${schema} to ${schema}`);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * For a pool that connects as the platform's own user (no gateway login
 * configured): each new connection first becomes the gateway role for its
 * session (`SET SESSION AUTHORIZATION`, which a superuser may do to any
 * role), so a `RESET ROLE` that got past the guard lands on the gateway,
 * which has no rights, not on the superuser. Weaker than a login of its
 * own (the session could still be set back by a superuser-only statement
 * the guard refuses by kind), stronger than the bare role switch.
 */
export function actAsGateway(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    client.query(`set session authorization ${GATEWAY_ROLE}`).catch(() => undefined);
  });
}
