import type { Logger } from 'pino';
import { isDatabaseDown } from '@domaeka/core';
import type { StoreDatabase } from './store-database.js';
import { storeErrors, type StoreError } from './store-errors.js';
import type { StoreGrants, StoreLimits } from './store-grants.js';
import { STORE_OPS, VALUE_MAX_BYTES, parseRequest, type StoreOp, type StoreRequest } from './store-protocol.js';

export type Answer = Record<string, unknown>;

/** What each request did (metrics): its op, `ok` or the error code, and the database's time when it got there. */
export interface StoreObserver {
  (op: StoreOp | 'unknown', result: string, dbMs: number | null): void;
}

/**
 * One store request of a container, from its frame to its answer: the
 * shape checked (store-protocol.ts), the call it names admitted by the
 * container's grants (a call of its tenant in flight, within its budget),
 * then the database, always with the grant's tenant id. Every failure is a
 * named error (store-errors.ts); none is thrown to the transport.
 */
export class StoreRequests {
  constructor(
    private readonly db: StoreDatabase,
    private readonly logger: Logger,
    private readonly observe: StoreObserver = () => undefined,
  ) {}

  async answer(frame: Record<string, unknown>, grants: StoreGrants): Promise<Answer> {
    const parsed = parseRequest(frame);
    if (!parsed.ok) {
      this.observe(typeof frame.op === 'string' && isOp(frame.op) ? frame.op : 'unknown', parsed.error.code, null);
      return refusal(parsed.id, parsed.error);
    }
    const req = parsed.request;
    const admitted = grants.admit(req.call);
    if (!admitted.ok) {
      this.observe(req.op, admitted.error.code, null);
      return refusal(req.id, admitted.error);
    }
    try {
      const { body, dbMs } = await this.run(req, admitted.tenantId, admitted.limits);
      this.observe(req.op, 'error' in body ? (body.error as StoreError).code : 'ok', dbMs);
      return { id: req.id, ...body, ...(req.timed ? { dbMs: Math.round(dbMs * 1000) / 1000 } : {}) };
    } catch (err) {
      const error = this.databaseError(err, req, admitted.tenantId);
      this.observe(req.op, error.code, null);
      return refusal(req.id, error);
    }
  }

  private async run(req: StoreRequest, tenantId: string, limits: StoreLimits): Promise<{ body: Answer; dbMs: number }> {
    switch (req.op) {
      case 'get': {
        const r = await this.db.get(tenantId, req.key);
        return { body: { ok: true, value: r.result }, dbMs: r.dbMs };
      }
      case 'set': {
        const r = await this.db.set(tenantId, req.key, req.value, req.bytes, req.ttlMs, limits);
        return { body: r.result === 'ok' ? { ok: true } : failure(quota(r.result, limits)), dbMs: r.dbMs };
      }
      case 'incr': {
        const r = await this.db.incr(tenantId, req.key, req.by, limits);
        const { status, value } = r.result;
        if (status === 'ok') return { body: { ok: true, value }, dbMs: r.dbMs };
        const error =
          status === 'not_a_number' ? storeErrors.notANumber(req.key) : status === 'too_large' ? storeErrors.valueTooLarge(VALUE_MAX_BYTES) : quota(status, limits);
        return { body: failure(error), dbMs: r.dbMs };
      }
      case 'delete': {
        const r = await this.db.delete(tenantId, req.key);
        return { body: { ok: true, deleted: r.result }, dbMs: r.dbMs };
      }
      case 'keys': {
        const r = await this.db.keys(tenantId, req.prefix);
        return { body: { ok: true, keys: r.result }, dbMs: r.dbMs };
      }
    }
  }

  /** PostgreSQL refused the content (not JSON it stores), the tenant is gone, or the database is away. */
  private databaseError(err: unknown, req: StoreRequest, tenantId: string): StoreError {
    const code = (err as { code?: string }).code ?? '';
    // 22P02 invalid JSON, 22P05 \u0000 in a string, 22021 bad UTF-8, 22003 a number out of numeric's range.
    if (code === '22P05' || code === '22021') return storeErrors.invalid('값에 저장할 수 없는 문자(NUL, \\u0000)가 있습니다', 'the value holds a character that cannot be stored (NUL, \\u0000)');
    if (code === '22P02') return storeErrors.invalid('값이 JSON이 아닙니다', 'the value is not JSON');
    if (code === '22003') return storeErrors.invalid('숫자가 너무 큽니다', 'number out of range');
    if (code === '23503') return storeErrors.unavailable('the tenant no longer exists');
    if (isDatabaseDown(err)) {
      this.logger.warn({ tenantId, op: req.op, err: String(err) }, 'store: the database is unavailable');
      return storeErrors.unavailable('the database does not answer');
    }
    this.logger.error({ tenantId, op: req.op, err: String(err), code }, 'store: statement failed');
    return storeErrors.unavailable(`statement failed (${code || 'error'})`);
  }
}

function isOp(op: string): op is StoreOp {
  return (STORE_OPS as readonly string[]).includes(op);
}

function quota(what: 'keys' | 'bytes', limits: StoreLimits): StoreError {
  return what === 'keys' ? storeErrors.quotaKeys(limits.maxKeys) : storeErrors.quotaBytes(limits.maxBytes);
}

function failure(error: StoreError): Answer {
  return { ok: false, error };
}

export function refusal(id: number | null, error: StoreError): Answer {
  return { id, ok: false, error };
}
