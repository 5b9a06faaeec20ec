import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { Me } from '@domaeka/broker/contracts';
import type { Plan, Tenant, User } from '../db/entities/index.js';
import { apiErrors, isUniqueViolation } from '../errors.js';
import type { Caller } from './caller.js';
import { checkPassword } from './password-policy.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { randomToken, sha256Hex } from './tokens.js';
import { AccountRepository } from './account-repository.js';

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
  private readonly accounts: AccountRepository;

  constructor(
    orm: Orm,
    private readonly sessionTtlMs: number,
    /** Ends the live sockets of a session that ends (none in the CLI, which opens no sockets). */
    private readonly notifier: ChangeNotifier | null = null,
  ) {
    this.accounts = new AccountRepository(orm);
  }

  /** A tenant on the free plan and its first user; the first account of the platform is admin. */
  async signup(input: SignupInput): Promise<Signed> {
    // Before the (slow) hash: a refused password costs nothing.
    checkPassword(input.password, input.email);
    const passwordHash = await hash(input.password, { algorithm: ARGON2ID });
    try {
      const user = await this.accounts.createAccount({ email: input.email, name: input.name, tenantName: input.tenantName?.trim() || input.name, passwordHash });
      if (!user) throw apiErrors.emailTaken();
      return await this.openSession(user);
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw apiErrors.emailTaken();
      throw err;
    }
  }

  /** The same error for an unknown email and a wrong password (and about the same time). */
  async login(email: string, password: string): Promise<Signed> {
    const user = await this.accounts.userByEmail(email);
    if (!user) {
      await verify(await this.dummy(), password).catch(() => false);
      throw apiErrors.invalidCredentials();
    }
    const ok = await verify(user.passwordHash, password).catch(() => false);
    if (!ok) throw apiErrors.invalidCredentials();
    return this.openSession(user);
  }

  async logout(token: string): Promise<void> {
    const ended = await this.accounts.endSession(sha256Hex(token));
    for (const e of ended) this.notifier?.revoked('logout', e.tenantId, { userId: e.userId });
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
    const user = await this.accounts.user(caller.tenantId, caller.userId);
    if (!user) throw apiErrors.unauthenticated();
    // Before the (slow) hashes: a refused new password costs nothing and says nothing of the current one.
    if (newPassword === currentPassword) throw apiErrors.validation('새 비밀번호가 지금 비밀번호와 같습니다 / the new password is the current one');
    checkPassword(newPassword, user.email);
    if (!(await verify(user.passwordHash, currentPassword).catch(() => false))) throw apiErrors.wrongPassword();
    const passwordHash = await hash(newPassword, { algorithm: ARGON2ID });
    const token = randomToken(32);
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    // Over the hash just verified only: of two changes racing with the same current password, one wins.
    if (!(await this.accounts.replacePassword(user.tenantId, user.id, user.passwordHash, passwordHash, { id: sha256Hex(token), expiresAt }))) throw apiErrors.wrongPassword();
    this.notifier?.revoked('password_changed', user.tenantId, { userId: user.id });
    const tenant = await this.accounts.tenant(user.tenantId);
    return { me: toMe(user, tenant), token, expiresAt };
  }

  /** The caller behind a session cookie, or null when unknown or expired. */
  async authenticateSession(token: string): Promise<Caller | null> {
    const caller = await this.accounts.callerOfSession(sha256Hex(token));
    return caller ? { ...caller, via: 'session' } : null;
  }

  async me(caller: Caller): Promise<Me> {
    const account = await this.accounts.account(caller.tenantId, caller.userId);
    if (!account) throw apiErrors.unauthenticated();
    return toMe(account.user, account.tenant);
  }

  plan(tenantId: string): Promise<Plan> {
    return this.accounts.plan(tenantId);
  }

  /**
   * Moves the tenant of `email` to another plan (`npm run cli -- plan`).
   * As `setPlan`; says which of account and plan is missing.
   */
  async setPlanByEmail(email: string, planId: string): Promise<{ tenantId: string } | { missing: 'account' | 'plan' }> {
    const user = await this.accounts.userByEmail(email);
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
    const missing = await this.accounts.setPlan(tenantId, planId);
    return missing ? { missing } : { tenantId };
  }

  /** `npm run cli -- admin <email>`: returns false when no such account exists. */
  async promoteAdmin(email: string): Promise<boolean> {
    return this.accounts.promoteAdminByEmail(email);
  }

  private async openSession(user: User): Promise<Signed> {
    const token = randomToken(32);
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    await this.accounts.openSession(user.tenantId, user.id, { id: sha256Hex(token), expiresAt });
    const tenant = await this.accounts.tenant(user.tenantId);
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
