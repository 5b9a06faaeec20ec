import { expect } from 'vitest';
import type { RunnerResultPayload } from '@domaeka/broker';

/**
 * The hostile programs of issue 3, item 6: one row each, table-driven. Each
 * `check` asserts the outcome the table gives for its row; the harness adds,
 * for every program, that no platform secret (the canary) appears in the
 * answer and that another tenant's call right after is answered normally.
 *
 * "Error inside the run" programs catch the error and return
 * `Type:errno:...` as their text, so the exact errno is asserted.
 */
export interface Hostile {
  name: string;
  /** The table row it belongs to. */
  row: string;
  code: string;
  timeoutMs?: number;
  /** The container must already be gone when the (failure) answer arrives. */
  goneAtAnswer?: boolean;
  /** A call by another tenant made just before (other tenants' files). */
  before?: { tenantId: string; code: string };
  /** The tenant's egress allowlist sent with the call (a premium tenant's), as the dispatcher sends it. */
  egress?: string[];
  check(r: RunnerResultPayload): void;
}

export const E = { EPERM: 1, ENOENT: 2, EAGAIN: 11, EACCES: 13, ECONNREFUSED: 111, ENETUNREACH: 101, EMFILE: 24, ENOSPC: 28, EROFS: 30, EADDRNOTAVAIL: 99 } as const;
export type Errno = keyof typeof E;

/** Every program starts with this: `_e(exc)` -> `Type:errno`. */
export const PRELUDE = `
import os, sys
def _e(e):
    return f"{type(e).__name__}:{getattr(e, 'errno', None)}"
`;
export const prog = (body: string) => `${PRELUDE}\n${body.trim()}\n`;

export function fails(...codes: string[]) {
  return (r: RunnerResultPayload) => {
    expect(r.ok, JSON.stringify(r).slice(0, 500)).toBe(false);
    expect(r.result).toBeNull();
    expect(codes).toContain(r.error?.code);
  };
}

export function text(re: RegExp) {
  return (r: RunnerResultPayload) => {
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    expect(r.ok).toBe(true);
    expect(String(r.result?.text)).toMatch(re);
  };
}

/** The run answered `<ExceptionType>:<errno>...` with the errno one of `names`. */
export function errno(types: RegExp, ...names: Errno[]) {
  return (r: RunnerResultPayload) => {
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    const t = String(r.result?.text);
    const m = /^(\w+):(-?\d+|None)/.exec(t);
    expect(m, t).not.toBeNull();
    expect(m![1]).toMatch(types);
    expect(names.map((n) => E[n]), t).toContain(Number(m![2]));
  };
}

export const TIMEOUT_MS = 1500;
export const timeout = (name: string, code: string): Hostile => ({
  name,
  row: 'CPU spin; sleep forever; never returning; blocking on stdin',
  code: prog(code),
  timeoutMs: TIMEOUT_MS,
  goneAtAnswer: true,
  check: fails('KB_ERR_TIMEOUT'),
});
