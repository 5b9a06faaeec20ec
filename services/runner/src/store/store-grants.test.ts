import { describe, expect, it } from 'vitest';
import { StoreGrants } from './store-grants.js';

const TENANT = '0b6f5a36-3c1f-4c39-9a8e-6a3f0b9a1c01';
const OTHER = '1c7e6b47-4d20-4d4a-8b9f-7b4e1cab2d12';
const profile = { name: 'free', memoryMb: 256, cpus: 0.5, timeoutMaxMs: 5000, maxConcurrency: 2 };

describe('store grants (whose store a container may use, and when)', () => {
  it('refuses every request while no call runs (a pooled container), and after its call was answered', () => {
    const g = new StoreGrants(10);
    expect(g.admit('c1')).toMatchObject({ ok: false, error: { code: 'KB_ERR_STORE_NO_CALL' } });
    g.open({ callId: 'c1', tenantId: TENANT, profile });
    expect(g.admit('c1')).toEqual({
      ok: true,
      tenantId: TENANT,
      limits: { maxKeys: 1000, maxBytes: 1024 * 1024 },
      tables: { maxBytes: 5 * 1024 * 1024, maxRows: 500, statementTimeoutMs: 1000 },
    });
    expect(g.admit('c2')).toMatchObject({ ok: false, error: { code: 'KB_ERR_STORE_NO_CALL' } });
    expect(g.admit(undefined)).toMatchObject({ ok: false, error: { code: 'KB_ERR_STORE_NO_CALL' } });
    g.close('c1');
    expect(g.admit('c1')).toMatchObject({ ok: false, error: { code: 'KB_ERR_STORE_NO_CALL' } });
  });

  it("counts each call's requests against its own budget and takes the call's quotas", () => {
    const g = new StoreGrants(2);
    g.open({ callId: 'c1', tenantId: TENANT, profile: { ...profile, storeMaxKeys: 5, storeMaxBytes: 100, dbMaxBytes: 200, dbMaxRows: 7, dbStatementTimeoutMs: 30 } });
    g.open({ callId: 'c2', tenantId: TENANT, profile });
    expect(g.admit('c1')).toMatchObject({ ok: true, limits: { maxKeys: 5, maxBytes: 100 }, tables: { maxBytes: 200, maxRows: 7, statementTimeoutMs: 30 } });
    expect(g.admit('c1')).toMatchObject({ ok: true });
    expect(g.admit('c1')).toMatchObject({ ok: false, error: { code: 'KB_ERR_STORE_BUDGET', message: expect.stringContaining('2번까지') } });
    expect(g.admit('c2')).toMatchObject({ ok: true, limits: { maxKeys: 1000 } });
  });

  it("never serves a second tenant's call in a container, and no store for a tenant that is not the platform's", () => {
    const g = new StoreGrants(10);
    g.open({ callId: 'c1', tenantId: TENANT, profile });
    g.open({ callId: 'c2', tenantId: OTHER, profile });
    expect(g.admit('c2')).toMatchObject({ ok: false, error: { code: 'KB_ERR_STORE_NO_CALL' } });
    const t = new StoreGrants(10);
    t.open({ callId: 'x', tenantId: 'tenant-a', profile });
    expect(t.admit('x')).toMatchObject({ ok: false, error: { code: 'KB_ERR_STORE_UNAVAILABLE' } });
  });
});
