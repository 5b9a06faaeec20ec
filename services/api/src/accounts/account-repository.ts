import { randomUUID } from 'node:crypto';
import { Plan, Session, Tenant, User } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';

/** Serialises signups: two first accounts racing on an empty database cannot both become admin. */
export const SIGNUP_LOCK_SQL = `select pg_advisory_xact_lock(hashtext('domaeka.signup'))`;

export const END_SESSION_SQL = `delete from sessions s using users u where s.id = ? and u.id = s.user_id returning s.user_id, u.tenant_id`;

export const SESSION_CALLER_SQL = `
  select u.id, u.tenant_id, u.is_admin from sessions s join users u on u.id = s.user_id
   where s.id = ? and s.expires_at > now()`;

/** Who a live session or key belongs to. */
export interface CallerRow {
  userId: string;
  tenantId: string;
  isAdmin: boolean;
}

export interface NewSession {
  /** sha256 hex of the cookie token (the token itself is never stored). */
  id: string;
  expiresAt: Date;
}

/**
 * Users, their sessions and their tenant's plan (`users`, `sessions`,
 * `tenants`, `plans`). What a signed-in caller reads takes the tenant id
 * first; the sign-in side (by email, by session id) runs before anyone's
 * tenant is known, and the operator's acts (`promoteAdminByEmail`, the CLI)
 * are named as such.
 */
export class AccountRepository {
  constructor(private readonly orm: Orm) {}

  /**
   * A tenant and its first user in one transaction, under the signup lock;
   * the first account of the platform is admin. Null when the email is
   * taken (a race past this check ends on `users_email_key`).
   */
  async createAccount(a: { email: string; name: string; tenantName: string; passwordHash: string }): Promise<User | null> {
    return this.orm.em.fork().transactional(async (tx) => {
      await tx.execute(SIGNUP_LOCK_SQL);
      if ((await tx.count(User, { email: a.email })) > 0) return null;
      const isAdmin = (await tx.count(User, {})) === 0;
      const tenant = tx.create(Tenant, { id: randomUUID(), name: a.tenantName, planId: 'free', createdAt: new Date() });
      return tx.create(User, {
        id: randomUUID(),
        tenantId: tenant.id,
        email: a.email,
        name: a.name,
        passwordHash: a.passwordHash,
        isAdmin,
        createdAt: new Date(),
      });
    });
  }

  /** Sign-in and the CLI: the account of an email (citext: any case), of whichever tenant. */
  userByEmail(email: string): Promise<User | null> {
    return this.orm.em.fork().findOne(User, { email });
  }

  /** The caller behind a live (unexpired) session id. */
  async callerOfSession(sessionId: string): Promise<CallerRow | null> {
    const rows: { id: string; tenant_id: string; is_admin: boolean }[] = await this.orm.em.fork().execute(SESSION_CALLER_SQL, [sessionId]);
    const row = rows[0];
    return row ? { userId: row.id, tenantId: row.tenant_id, isAdmin: row.is_admin } : null;
  }

  /** Opens a session; expired sessions of the user go at the same moment (dead weight). */
  async openSession(tenantId: string, userId: string, s: NewSession): Promise<void> {
    const em = this.orm.em.fork();
    await em.nativeDelete(Session, { userId, expiresAt: { $lt: new Date() } });
    em.create(Session, { id: s.id, userId, createdAt: new Date(), expiresAt: s.expiresAt });
    await em.flush();
  }

  /** Deletes a session; whose it was (none when it was already gone). */
  async endSession(sessionId: string): Promise<{ userId: string; tenantId: string }[]> {
    const ended: { user_id: string; tenant_id: string }[] = await this.orm.em.fork().execute(END_SESSION_SQL, [sessionId]);
    return ended.map((e) => ({ userId: e.user_id, tenantId: e.tenant_id }));
  }

  user(tenantId: string, userId: string): Promise<User | null> {
    return this.orm.em.fork().findOne(User, { id: userId, tenantId });
  }

  /** The caller's user and tenant; null when either is gone. */
  async account(tenantId: string, userId: string): Promise<{ user: User; tenant: Tenant } | null> {
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { id: userId, tenantId });
    const tenant = await em.findOne(Tenant, { id: tenantId });
    return user && tenant ? { user, tenant } : null;
  }

  /** The tenant of a user just read (it exists: a user row holds its key). */
  tenant(tenantId: string): Promise<Tenant> {
    return this.orm.em.fork().findOneOrFail(Tenant, { id: tenantId });
  }

  /**
   * In one transaction: the new hash stored over the one just verified only
   * (of two changes racing with the same current password one wins: false
   * for the other), every session of the user deleted, one new session.
   */
  async replacePassword(tenantId: string, userId: string, verifiedHash: string, passwordHash: string, s: NewSession): Promise<boolean> {
    return this.orm.em.fork().transactional(async (tx) => {
      if ((await tx.nativeUpdate(User, { id: userId, tenantId, passwordHash: verifiedHash }, { passwordHash })) === 0) return false;
      await tx.nativeDelete(Session, { userId });
      tx.create(Session, { id: s.id, userId, createdAt: new Date(), expiresAt: s.expiresAt });
      return true;
    });
  }

  async plan(tenantId: string): Promise<Plan> {
    const em = this.orm.em.fork();
    const tenant = await em.findOneOrFail(Tenant, { id: tenantId });
    return em.findOneOrFail(Plan, { id: tenant.planId });
  }

  /** An operator's act (CLI, administrator): which of plan and tenant is missing, if one is. */
  async setPlan(tenantId: string, planId: string): Promise<'plan' | 'tenant' | null> {
    const em = this.orm.em.fork();
    if (!(await em.findOne(Plan, { id: planId }))) return 'plan';
    return (await em.nativeUpdate(Tenant, { id: tenantId }, { planId })) > 0 ? null : 'tenant';
  }

  /** The operator's `npm run cli -- admin <email>`: false when no such account exists. */
  async promoteAdminByEmail(email: string): Promise<boolean> {
    return (await this.orm.em.fork().nativeUpdate(User, { email }, { isAdmin: true })) > 0;
  }
}
