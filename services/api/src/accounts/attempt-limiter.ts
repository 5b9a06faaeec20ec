import { apiErrors } from '../errors.js';
import type { AttemptKey, AttemptStore } from './attempt-store.js';

export interface LimitRule {
  /** Attempts allowed within the window; the next one is refused. */
  limit: number;
  windowMs: number;
}

/** Distinct keys (emails, IPs) remembered per limiter; the least recently touched go first. */
const MAX_KEYS = 10_000;

/**
 * Sliding-window attempt counters in process memory, bounded in size (an
 * LRU of keys, each holding at most `limit` timestamps). Per process on
 * purpose: only the command editor's test calls use it (30 a minute per
 * tenant, a brake on load, not on guessing), so N API processes allow N
 * times that. The login and signup brakes (`AuthLimits`) count in
 * PostgreSQL instead, shared by every process.
 * Forgetting keys under pressure only ever lets an attacker try again, it
 * never locks a user out.
 */
export class AttemptLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly rule: LimitRule,
    private readonly clock: () => number = Date.now,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** Seconds until `key` may try again; 0 when it may now. */
  retryAfterSec(key: string): number {
    const list = this.live(key);
    if (list.length < this.rule.limit) return 0;
    const oldest = list[list.length - this.rule.limit]!;
    return Math.max(1, Math.ceil((oldest + this.rule.windowMs - this.clock()) / 1000));
  }

  /** Counts an attempt now; returns its time, for `withdraw`. */
  record(key: string): number {
    const at = this.clock();
    const list = this.live(key);
    list.push(at);
    if (list.length > this.rule.limit) list.splice(0, list.length - this.rule.limit);
    // Re-inserted: Map order is the LRU order.
    this.hits.delete(key);
    this.hits.set(key, list);
    while (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
    return at;
  }

  /** Takes back one attempt counted at `at` (it turned out not to be a failure). */
  withdraw(key: string, at: number): void {
    const list = this.hits.get(key);
    const i = list ? list.lastIndexOf(at) : -1;
    if (i >= 0) list!.splice(i, 1);
    if (list && list.length === 0) this.hits.delete(key);
  }

  /** Attempts within the window, and the time of the latest. */
  recent(key: string): { count: number; latest: number } {
    const list = this.live(key);
    return { count: list.length, latest: list[list.length - 1] ?? 0 };
  }

  clear(key: string): void {
    this.hits.delete(key);
  }

  private live(key: string): number[] {
    const list = this.hits.get(key);
    if (!list) return [];
    const since = this.clock() - this.rule.windowMs;
    while (list.length > 0 && list[0]! <= since) list.shift();
    if (list.length === 0) this.hits.delete(key);
    return list;
  }
}

const FIFTEEN_MINUTES = 15 * 60_000;
/** Failed logins to one account from browsers it does not know, before they are all held (OWASP device-cookie lockout). */
export const LOGIN_PER_ACCOUNT: LimitRule = { limit: 10, windowMs: FIFTEEN_MINUTES };
/** Failed logins from one address by browsers no account knows, whatever the emails (spraying). */
export const LOGIN_PER_IP: LimitRule = { limit: 20, windowMs: FIFTEEN_MINUTES };
/** Failed logins with one known browser's device cookie (a stolen cookie is not a free pass). */
export const LOGIN_PER_DEVICE: LimitRule = { limit: 10, windowMs: FIFTEEN_MINUTES };
export const SIGNUP_PER_IP: LimitRule = { limit: 10, windowMs: 60 * 60_000 };
/**
 * Progressive delay per account and place (address, or device cookie):
 * this many failures pass at once (typos), then each further one doubles the
 * wait before the next try: 1 s, 2 s, 4 s ... at most 15 minutes.
 */
export const BACKOFF_FREE = 5;
const BACKOFF_MAX_MS = FIFTEEN_MINUTES;

/** Where a login comes from: the client's address and, when its device cookie verifies for this account, that device. */
export interface LoginSource {
  ip: string;
  device: string | null;
}

/** One login attempt, counted as a failure from the start (parallel guesses cannot slip past the check). */
export interface LoginAttempt {
  /** The password was right: take the attempt back and forget this place's failures on the account. */
  succeeded(): Promise<void>;
  /** Neither right nor wrong (the database failed): take the attempt back. */
  voided(): Promise<void>;
}

/** Seconds a rule holds the next attempt, given the earlier ones in its window (oldest first); 0 when it may go. */
export function ruleWaitSec(rule: LimitRule, earlier: readonly number[], now: number): number {
  if (earlier.length < rule.limit) return 0;
  const oldest = earlier[earlier.length - rule.limit]!;
  return Math.max(1, Math.ceil((oldest + rule.windowMs - now) / 1000));
}

/** Seconds until the next try from a place: 0 for the first BACKOFF_FREE failures, then 1, 2, 4 ... after the latest. */
export function backoffWaitSec(earlier: readonly number[], now: number): number {
  const count = earlier.length;
  if (count < BACKOFF_FREE) return 0;
  const waitMs = Math.min(1000 * 2 ** (count - BACKOFF_FREE), BACKOFF_MAX_MS);
  const left = earlier[count - 1]! + waitMs - now;
  return left > 0 ? Math.ceil(left / 1000) : 0;
}

/** The place's failures on an account count for FIFTEEN_MINUTES (enough for the longest wait). */
const BACKOFF_WINDOW_MS = FIFTEEN_MINUTES;

/**
 * Brute-force brakes for the public auth routes, after OWASP's
 * Authentication and Credential Stuffing cheat sheets (device cookies,
 * progressive delays, per-account and per-address limits; ASVS V2.2.1):
 * - every login is slowed per account + place once it failed
 *   BACKOFF_FREE times (exponential, see above);
 * - a browser the account knows (device cookie, http/device-cookie.ts) is
 *   limited only on its own failures (LOGIN_PER_DEVICE), so wrong passwords
 *   from anywhere else never lock the owner out of it;
 * - browsers the account does not know share LOGIN_PER_ACCOUNT (so many
 *   addresses cannot guess on), and each address has LOGIN_PER_IP;
 * - signups: SIGNUP_PER_IP (account spraying).
 * A held attempt is refused before the password is even checked, so a
 * correct password does not get through either (nor learns it was right).
 * The counters live in an `AttemptStore`: PostgreSQL in the API
 * (attempt-store.ts), so every API process shares them. An attempt is
 * counted on all its keys first, then taken back from all if one of them
 * holds it: racing attempts can only be held more, never let through more.
 */
export class AuthLimits {
  constructor(
    private readonly store: AttemptStore,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Throws 429 KB_ERR_RATE_LIMITED (with the seconds to wait) while this login is held; else counts it. */
  async beginLogin(email: string, source: LoginSource): Promise<LoginAttempt> {
    const account = emailKey(email);
    const backoff: AttemptKey = {
      scope: 'login_backoff',
      key: `${account}\n${source.device ? `device:${source.device}` : `ip:${source.ip}`}`,
      windowMs: BACKOFF_WINDOW_MS,
    };
    const limits: [AttemptKey, LimitRule][] = source.device
      ? [[{ scope: 'login_device', key: source.device, windowMs: LOGIN_PER_DEVICE.windowMs }, LOGIN_PER_DEVICE]]
      : [
          [{ scope: 'login_account', key: account, windowMs: LOGIN_PER_ACCOUNT.windowMs }, LOGIN_PER_ACCOUNT],
          [{ scope: 'login_ip', key: source.ip, windowMs: LOGIN_PER_IP.windowMs }, LOGIN_PER_IP],
        ];
    const keys = [backoff, ...limits.map(([k]) => k)];
    const at = this.clock();
    const [backoffEarlier, ...earlier] = await this.store.add(keys, at);
    const wait = Math.max(backoffWaitSec(backoffEarlier!, at), ...limits.map(([, rule], i) => ruleWaitSec(rule, earlier[i]!, at)));
    if (wait > 0) {
      await this.store.withdraw(keys, at);
      throw apiErrors.rateLimited('login attempts', wait);
    }
    return {
      succeeded: async () => {
        await this.store.withdraw(keys.slice(1), at);
        await this.store.clear(backoff);
      },
      voided: () => this.store.withdraw(keys, at),
    };
  }

  /** Counts the signup attempt; throws 429 once the IP made too many this hour. */
  async signupAttempt(ip: string): Promise<void> {
    const key: AttemptKey = { scope: 'signup_ip', key: ip, windowMs: SIGNUP_PER_IP.windowMs };
    const at = this.clock();
    const [earlier] = await this.store.add([key], at);
    const wait = ruleWaitSec(SIGNUP_PER_IP, earlier!, at);
    if (wait > 0) {
      await this.store.withdraw([key], at);
      throw apiErrors.rateLimited('signups', wait);
    }
  }
}

/** `Owner@Shop.example` and `owner@shop.example ` are one target of guessing. */
function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
