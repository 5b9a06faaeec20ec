/** `GET /me`, and the `me` of signup, login and a password change. */
export interface Me {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  tenant: { id: string; name: string; plan: string };
}

/** One daily limit of the plan and how much of it today used. */
export interface Counted {
  used: number;
  limit: number;
}

/** `GET /usage`: today's room calls and test runs against the plan. */
export interface UsageView {
  plan: { id: string; name: string };
  today: { day: string; resetsAt: string; roomCalls: Counted; testRuns: Counted };
  /** The last `USAGE_HISTORY_DAYS` KST days, oldest first, today last; days without calls are zeros. */
  days: { day: string; roomCalls: number; testRuns: number }[];
}

/** `GET/PUT /error-reply`: what a room reads when the tenant's code fails (its own words, or the platform's polite default). */
export interface ErrorReplyView {
  /** The tenant's own text; null: rooms get `defaultReply`. */
  errorReply: string | null;
  defaultReply: string;
  maxChars: number;
}
