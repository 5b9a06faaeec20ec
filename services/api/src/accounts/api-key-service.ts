import type { ApiKey } from '../db/entities/index.js';
import { apiErrors } from '../errors.js';
import type { Caller } from './caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import type { Orm } from '../db/em.js';
import { randomToken, sha256Hex } from './tokens.js';
import { ApiKeyRepository } from './api-key-repository.js';

export const API_KEY_PREFIX = 'kb_';
/** `kb_` + 8 characters: enough for a person to tell keys apart, useless to an attacker. */
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Bearer keys for scripts and bot servers: shown once, stored as sha256, revocable. */
export class ApiKeyService {
  private readonly keys: ApiKeyRepository;

  constructor(
    orm: Orm,
    private readonly notifier: ChangeNotifier,
  ) {
    this.keys = new ApiKeyRepository(orm);
  }

  async create(caller: Caller, name: string): Promise<ApiKeyView & { key: string }> {
    const key = API_KEY_PREFIX + randomToken(32);
    const row = await this.keys.create(caller.tenantId, { userId: caller.userId, name, keyHash: sha256Hex(key), keyPrefix: key.slice(0, SHOWN_PREFIX_LENGTH) });
    return { ...toView(row), key };
  }

  async list(caller: Caller): Promise<ApiKeyView[]> {
    return (await this.keys.list(caller.tenantId)).map(toView);
  }

  async revoke(caller: Caller, id: string): Promise<void> {
    const row = await this.keys.revoke(caller.tenantId, id);
    if (!row) throw apiErrors.notFound('api key');
    // Sockets opened with the key close (on every API process).
    this.notifier.revoked('api_key_revoked', row.tenantId, { userId: row.userId });
  }

  /** The caller behind a bearer key, or null when unknown or revoked. */
  async authenticate(key: string): Promise<Caller | null> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const caller = await this.keys.callerOfKey(sha256Hex(key));
    return caller ? { ...caller, via: 'api_key' } : null;
  }
}

function toView(row: ApiKey): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.keyPrefix,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}
