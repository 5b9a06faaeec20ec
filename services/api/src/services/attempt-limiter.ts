import { apiErrors } from '../errors.js';

export interface LimitRule {
  /** Attempts allowed within the window; the next one is refused. */
  limit: number;
  windowMs: number;
}

/** Distinct keys (emails, IPs) remembered per limiter; the least recently touched go first. */
const MAX_KEYS = 10_000;

/**
 * Sliding-window attempt counters in process memory, bounded in size (an
 * LRU of keys, each holding at most `limit` timestamps). Good enough for one
 * API process; several API instances behind a balancer would each count on
 * their own and would need shared storage (PostgreSQL or Redis) instead.
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

  record(key: string): void {
    const list = this.live(key);
    list.push(this.clock());
    if (list.length > this.rule.limit) list.splice(0, list.length - this.rule.limit);
    // Re-inserted: Map order is the LRU order.
    this.hits.delete(key);
    this.hits.set(key, list);
    while (this.hits.size > this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
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

export const LOGIN_PER_EMAIL: LimitRule = { limit: 5, windowMs: 15 * 60_000 };
export const LOGIN_PER_IP: LimitRule = { limit: 20, windowMs: 15 * 60_000 };
export const SIGNUP_PER_IP: LimitRule = { limit: 10, windowMs: 60 * 60_000 };

/**
 * Brute-force brakes for the public auth routes: failed logins per email
 * and per client IP, signups per IP (account spraying). A refused attempt is
 * refused before the password is even checked, so a correct password does
 * not get through either; a successful login forgets that email's failures.
 */
export class AuthLimits {
  private readonly loginEmail: AttemptLimiter;
  private readonly loginIp: AttemptLimiter;
  private readonly signupIp: AttemptLimiter;

  constructor(clock: () => number = Date.now) {
    this.loginEmail = new AttemptLimiter(LOGIN_PER_EMAIL, clock);
    this.loginIp = new AttemptLimiter(LOGIN_PER_IP, clock);
    this.signupIp = new AttemptLimiter(SIGNUP_PER_IP, clock);
  }

  /** Throws 429 KB_ERR_RATE_LIMITED while the email or the IP has too many recent failures. */
  beforeLogin(email: string, ip: string): void {
    const wait = Math.max(this.loginEmail.retryAfterSec(emailKey(email)), this.loginIp.retryAfterSec(ip));
    if (wait > 0) throw apiErrors.rateLimited('login attempts', wait);
  }

  loginFailed(email: string, ip: string): void {
    this.loginEmail.record(emailKey(email));
    this.loginIp.record(ip);
  }

  loginSucceeded(email: string): void {
    this.loginEmail.clear(emailKey(email));
  }

  /** Counts the signup attempt; throws 429 once the IP made too many this hour. */
  signupAttempt(ip: string): void {
    const wait = this.signupIp.retryAfterSec(ip);
    if (wait > 0) throw apiErrors.rateLimited('signups', wait);
    this.signupIp.record(ip);
  }
}

/** `Owner@Shop.example` and `owner@shop.example ` are one target of guessing. */
function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
