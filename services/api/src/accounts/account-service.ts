import { randomUUID } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { Me } from '@domaeka/broker/contracts';
import { Plan, Session, Tenant, User } from '../db/entities/index.js';
import { apiErrors, isUniqueViolation } from '../errors.js';
import type { Caller } from './caller.js';
import { checkPassword } from './password-policy.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { randomToken, sha256Hex } from './tokens.js';

/** `Algorithm.Argon2id` (a const enum, which isolatedModules cannot read from a .d.ts). */
const ARGON2ID = 2 as Algorithm;

export interface SignupInput {
  email: string;
  password: string;
  name: string;
  tenantName?: string;
}

/** A new session: the token goes into the cookie, only its sha256 into `sessions`. */
export interface Signed {
  me: Me;
  token: string;
  expiresAt: Date;
}

/**
 * Accounts and browser sessions. Passwords are argon2id; a session token
 * is 32 random bytes whose sha256 is the `sessions` row id.
 */
export class AccountService {
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly orm: Orm,
    private readonly sessionTtlMs: number,
    /** Ends the live sockets of a session that ends (none in the CLI, which opens no sockets). */
    private readonly notifier: ChangeNotifier | null = null,
  ) {}

  /** A tenant on the free plan and its first user; the first account of the platform is admin. */
  async signup(input: SignupInput): Promise<Signed> {
    // Before the (slow) hash: a refused password costs nothing.
    checkPassword(input.password, input.email);
    const passwordHash = await hash(input.password, { algorithm: ARGON2ID });
    const em = this.orm.em.fork();
    try {
      const user = await em.transactional(async (tx) => {
        // Serialises signups so two first accounts racing on an empty database cannot both become admin.
        await tx.execute(`select pg_advisory_xact_lock(hashtext('domaeka.signup'))`);
        if ((await tx.count(User, { email: input.email })) > 0) throw apiErrors.emailTaken();
        const isAdmin = (await tx.count(User, {})) === 0;
        const tenant = tx.create(Tenant, {
          id: randomUUID(),
          name: input.tenantName?.trim() || input.name,
          planId: 'free',
          createdAt: new Date(),
        });
        return tx.create(User, {
          id: randomUUID(),
          tenantId: tenant.id,
          email: input.email,
          name: input.name,
          passwordHash,
          isAdmin,
          createdAt: new Date(),
        });
      });
      return await this.openSession(user);
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw apiErrors.emailTaken();
      throw err;
    }
  }

  /** The same error for an unknown email and a wrong password (and about the same time). */
  async login(email: string, password: string): Promise<Signed> {
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { email });
    if (!user) {
      await verify(await this.dummy(), password).catch(() => false);
      throw apiErrors.invalidCredentials();
    }
    const ok = await verify(user.passwordHash, password).catch(() => false);
    if (!ok) throw apiErrors.invalidCredentials();
    return this.openSession(user);
  }

  async logout(token: string): Promise<void> {
    const ended: { user_id: string; tenant_id: string }[] = await this.orm.em
      .fork()
      .execute(`delete from sessions s using users u where s.id = ? and u.id = s.user_id returning s.user_id, u.tenant_id`, [sha256Hex(token)]);
    for (const e of ended) this.notifier?.revoked('logout', e.tenant_id, { userId: e.user_id });
  }

  /**
   * The password change, after OWASP's Authentication and Session
   * Management cheat sheets (re-authenticate with the current password;
   * renew the session id on a change of credentials) and Django's
   * `update_session_auth_hash` (the changing browser stays signed in, the
   * others are not): the current password verified, the new hash stored,
   * every session of the account deleted and one new session opened for
   * the caller's browser, in one transaction. So a session token copied
   * before the change, this browser's old one included, opens nothing
   * after it; every API process then re-checks the account's live sockets
   * (`access.revoked`), dropping those of the ended sessions. API keys stay:
   * they are credentials of their own, revoked one by one (as GitHub keeps
   * personal access tokens over a password change).
   */
  async changePassword(caller: Caller, currentPassword: string, newPassword: string): Promise<Signed> {
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { id: caller.userId });
    if (!user) throw apiErrors.unauthenticated();
    // Before the (slow) hashes: a refused new password costs nothing and says nothing of the current one.
    if (newPassword === currentPassword) throw apiErrors.validation('새 비밀번호가 지금 비밀번호와 같습니다 / the new password is the current one');
    checkPassword(newPassword, user.email);
    if (!(await verify(user.passwordHash, currentPassword).catch(() => false))) throw apiErrors.wrongPassword();
    const passwordHash = await hash(newPassword, { algorithm: ARGON2ID });
    const token = randomToken(32);
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    await em.transactional(async (tx) => {
      // Over the hash just verified only: of two changes racing with the same current password, one wins.
      if ((await tx.nativeUpdate(User, { id: user.id, passwordHash: user.passwordHash }, { passwordHash })) === 0) throw apiErrors.wrongPassword();
      await tx.nativeDelete(Session, { userId: user.id });
      tx.create(Session, { id: sha256Hex(token), userId: user.id, createdAt: new Date(), expiresAt });
    });
    this.notifier?.revoked('password_changed', user.tenantId, { userId: user.id });
    const tenant = await em.findOneOrFail(Tenant, { id: user.tenantId });
    return { me: toMe(user, tenant), token, expiresAt };
  }

  /** The caller behind a session cookie, or null when unknown or expired. */
  async authenticateSession(token: string): Promise<Caller | null> {
    const rows: { id: string; tenant_id: string; is_admin: boolean }[] = await this.orm.em
      .fork()
      .execute(
        `select u.id, u.tenant_id, u.is_admin from sessions s join users u on u.id = s.user_id
          where s.id = ? and s.expires_at > now()`,
        [sha256Hex(token)],
      );
    const row = rows[0];
    return row ? { userId: row.id, tenantId: row.tenant_id, isAdmin: row.is_admin, via: 'session' } : null;
  }

  async me(caller: Caller): Promise<Me> {
    const em = this.orm.em.fork();
    const user = await em.findOne(User, { id: caller.userId });
    const tenant = await em.findOne(Tenant, { id: caller.tenantId });
    if (!user || !tenant) throw apiErrors.unauthenticated();
    return toMe(user, tenant);
  }

  async plan(tenantId: string): Promise<Plan> {
    const em = this.orm.em.fork();
    const tenant = await em.findOneOrFail(Tenant, { id: tenantId });
    return em.findOneOrFail(Plan, { id: tenant.planId });
  }

  /**
   * Moves the tenant of `email` to another plan (`npm run cli -- plan`).
   * As `setPlan`; says which of account and plan is missing.
   */
  async setPlanByEmail(email: string, planId: string): Promise<{ tenantId: string } | { missing: 'account' | 'plan' }> {
    const user = await this.orm.em.fork().findOne(User, { email });
    if (!user) return { missing: 'account' };
    const r = await this.setPlan(user.tenantId, planId);
    return 'missing' in r ? { missing: r.missing === 'plan' ? 'plan' : 'account' } : r;
  }

  /**
   * Moves a tenant to another plan (an operator's act: the CLI, or an
   * administrator through the API). The caller publishes a `changed` event
   * so the dispatcher applies the new limits and mode from the next call.
   */
  async setPlan(tenantId: string, planId: string): Promise<{ tenantId: string } | { missing: 'tenant' | 'plan' }> {
    const em = this.orm.em.fork();
    if (!(await em.findOne(Plan, { id: planId }))) return { missing: 'plan' };
    const n = await em.nativeUpdate(Tenant, { id: tenantId }, { planId });
    return n > 0 ? { tenantId } : { missing: 'tenant' };
  }

  /** `npm run cli -- admin <email>`: returns false when no such account exists. */
  async promoteAdmin(email: string): Promise<boolean> {
    const n = await this.orm.em.fork().nativeUpdate(User, { email }, { isAdmin: true });
    return n > 0;
  }

  private async openSession(user: User): Promise<Signed> {
    const em = this.orm.em.fork();
    const token = randomToken(32);
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    // Expired sessions of this user are dead weight; signing in is a natural moment to drop them.
    await em.nativeDelete(Session, { userId: user.id, expiresAt: { $lt: new Date() } });
    em.create(Session, { id: sha256Hex(token), userId: user.id, createdAt: new Date(), expiresAt });
    await em.flush();
    const tenant = await em.findOneOrFail(Tenant, { id: user.tenantId });
    return { me: toMe(user, tenant), token, expiresAt };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hash(randomToken(16), { algorithm: ARGON2ID });
    return this.dummyHash;
  }
}

function toMe(user: User, tenant: Tenant): Me {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    isAdmin: user.isAdmin,
    tenant: { id: tenant.id, name: tenant.name, plan: tenant.planId },
  };
}
