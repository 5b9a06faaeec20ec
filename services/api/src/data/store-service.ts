import { KbError } from '@domaeka/core';
import type { Caller } from '../accounts/caller.js';
import { apiErrors } from '../errors.js';
import { STORE_KEY_MAX_CHARS, STORE_VALUE_MAX_BYTES, type DataRepository } from './data-repository.js';

const TTL_MAX_S = 10 * 365 * 24 * 3600;

/**
 * The tenant's store keys (`from domaeka import store`) on the 데이터 page:
 * listed by prefix, set and deleted through the store's own functions
 * (kb_store_set, kb_store_delete), so the plan's key and byte quotas and
 * kb_store_usage count the same as the runner's writes.
 */
export class StoreService {
  constructor(private readonly repo: DataRepository) {}

  async list(caller: Caller, prefix: string, offset: number, limit: number) {
    const [{ rows, total }, usage, limits] = await Promise.all([
      this.repo.storeList(caller.tenantId, prefix, offset, limit),
      this.repo.storeUsage(caller.tenantId),
      this.repo.limits(caller.tenantId),
    ]);
    return {
      keys: rows.map((r) => ({ key: r.key, value: r.value, bytes: r.bytes, expiresAt: r.expires_at, updatedAt: r.updated_at })),
      total,
      quota: { maxKeys: limits.storeMaxKeys, maxBytes: limits.storeMaxBytes, usedKeys: usage.keys, usedBytes: usage.bytes },
    };
  }

  async set(caller: Caller, key: string, value: unknown, ttlSec: number | undefined) {
    checkKey(key);
    if (value === undefined) throw apiErrors.validation('value(JSON 값)가 필요합니다 / value is required');
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > STORE_VALUE_MAX_BYTES) throw apiErrors.validation(`값은 ${STORE_VALUE_MAX_BYTES / 1024} KiB까지입니다 / the value is over ${STORE_VALUE_MAX_BYTES / 1024} KiB`);
    if (ttlSec !== undefined && (!Number.isInteger(ttlSec) || ttlSec < 1 || ttlSec > TTL_MAX_S)) {
      throw apiErrors.validation(`ttlSec는 1부터 ${TTL_MAX_S}까지의 정수입니다 / ttlSec must be an integer from 1 to ${TTL_MAX_S}`);
    }
    const limits = await this.repo.limits(caller.tenantId);
    const status = await this.repo.storeSet(caller.tenantId, key, json, bytes, ttlSec === undefined ? null : ttlSec * 1000, limits);
    if (status === 'keys') {
      throw new KbError('KB_ERR_STORAGE_QUOTA', `저장 공간이 가득 찼습니다: 키는 ${limits.storeMaxKeys.toLocaleString('en-US')}개까지 저장할 수 있습니다 / storage quota reached: at most ${limits.storeMaxKeys} keys`, 409);
    }
    if (status === 'bytes') {
      throw new KbError('KB_ERR_STORAGE_QUOTA', `저장 공간이 가득 찼습니다: 값은 모두 합쳐 ${Math.round(limits.storeMaxBytes / 1024)} KiB까지 저장할 수 있습니다 / storage quota reached: at most ${limits.storeMaxBytes} bytes of values`, 409);
    }
    return { key, bytes };
  }

  async remove(caller: Caller, key: string): Promise<void> {
    checkKey(key);
    if (!(await this.repo.storeDelete(caller.tenantId, key))) throw apiErrors.notFound('key');
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > STORE_KEY_MAX_CHARS || key.includes('\u0000')) {
    throw apiErrors.validation(`키는 1~${STORE_KEY_MAX_CHARS}자의 문자열입니다 / a key is 1 to ${STORE_KEY_MAX_CHARS} characters`);
  }
}
