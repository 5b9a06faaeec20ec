import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, signup, startApi, type Account, type Harness } from './harness.js';

/**
 * The pre-filled bridge script (issue 16): the owner's download and the
 * phone's single-use link, on a clock the test moves. What the phone gets
 * must be exactly what the bot needs (the five constants read back from the
 * script as Rhino would read them), once, and then nothing that says why.
 */
let h: Harness;
let owner: Account;
let other: Account;
let now = Date.parse('2026-12-07T09:00:00Z');
const secretKey = 'field-key "quoted" \\ $& 한글-0123456789';
const salt = 'salt-$&-"솔트"';
let bot: { id: string; name: string };

beforeAll(async () => {
  h = await startApi('api-bridge-script', { clock: () => now });
  owner = await signup(h, 'bridge-owner@example.com');
  other = await signup(h, 'bridge-other@example.com');
  bot = (await as(h, owner)('POST', '/bots', { name: '도매까 "상점" 봇', secretKey, salt })).json();
});
afterAll(async () => {
  await h?.close();
});

/** The five settings as the script's own `var X = "...";` lines hold them (JSON string literals). */
function settingsOf(script: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['SERVER_HOST', 'SERVER_PORT', 'BOT_NAME', 'SECRET_KEY', 'SALT']) {
    const m = new RegExp(`^var ${name} = ("(?:[^"\\\\]|\\\\.)*");`, 'm').exec(script);
    if (!m) throw new Error(`no ${name} line`);
    out[name] = JSON.parse(m[1]!) as string;
  }
  return out;
}

/** The phone's request: no cookies, no key, the web origin's host. */
const fetchLink = (path: string, method: 'GET' | 'HEAD' = 'GET') => h.api.app.inject({ method, url: path, headers: { host: 'shop.example.kr:3000' } });

async function misses(): Promise<number> {
  const text = (await h.api.app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(/^kb_api_bridge_link_misses_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('the pre-filled bridge script', () => {
  it('downloads filled with the host the browser used, the bridge port, the bot name, key and salt', async () => {
    const res = await h.api.app.inject({ method: 'GET', url: `/api/v1/bots/${bot.id}/bridge-script`, cookies: owner.cookies, headers: { host: 'shop.example.kr:3000' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="domaeka-bridge.js"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).not.toMatch(/"__DOMAEKA_[A-Z_]+__"/);
    // No gateway reports a port here: the configured BRIDGE_PORT, 1490 by default.
    expect(settingsOf(res.body)).toEqual({ SERVER_HOST: 'shop.example.kr', SERVER_PORT: '1490', BOT_NAME: bot.name, SECRET_KEY: secretKey, SALT: salt });
  });

  it("takes the operator's public address when one is set, and refuses another tenant's bot", async () => {
    h.config.bridgePublicHost = 'bridge.example.kr';
    h.config.bridgePublicPort = 1491;
    try {
      const res = await as(h, owner)('GET', `/bots/${bot.id}/bridge-script`);
      expect(settingsOf(res.body)).toMatchObject({ SERVER_HOST: 'bridge.example.kr', SERVER_PORT: '1491' });
    } finally {
      h.config.bridgePublicHost = null;
      h.config.bridgePublicPort = null;
    }
    for (const [method, url] of [['GET', `/bots/${bot.id}/bridge-script`], ['POST', `/bots/${bot.id}/bridge-script-link`]] as const) {
      const res = await as(h, other)(method, url);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain(secretKey);
    }
    expect((await h.api.app.inject({ method: 'GET', url: `/api/v1/bots/${bot.id}/bridge-script` })).statusCode).toBe(401);
  });

  it('hands the script to the phone once through a link, storing only the hash of its token', async () => {
    const made = await as(h, owner)('POST', `/bots/${bot.id}/bridge-script-link`);
    expect(made.statusCode).toBe(201);
    const link = made.json();
    expect(link.path).toMatch(/^\/api\/v1\/bridge-script\/[A-Za-z0-9_-]{32}$/);
    expect(link).toMatchObject({ ttlSeconds: 600, expiresAt: new Date(now + 600_000).toISOString() });
    const token = link.path.split('/').pop();
    const { rows } = await h.db.query(`select row_to_json(l)::text as t, token_hash from kb_bridge_links l where bot_id = $1`, [bot.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(rows[0].t).not.toContain(token);

    // A link preview's HEAD does not spend it.
    expect((await fetchLink(link.path, 'HEAD')).statusCode).toBe(404);
    const missesBefore = await misses();
    const first = await fetchLink(link.path);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(first.headers['content-disposition']).toBe('inline; filename="domaeka-bridge.js"');
    expect(first.headers['cache-control']).toBe('no-store');
    expect(settingsOf(first.body)).toEqual({ SERVER_HOST: 'shop.example.kr', SERVER_PORT: '1490', BOT_NAME: bot.name, SECRET_KEY: secretKey, SALT: salt });

    const again = await fetchLink(link.path);
    expect(again.statusCode).toBe(404);
    expect(again.body).toContain('이 링크는 없거나, 이미 한 번 쓰였거나, 10분이 지나 만료되었습니다');
    expect(again.body).not.toContain(secretKey);
    expect(await misses()).toBe(missesBefore + 1);
  });

  it('expires after 10 minutes by the clock, and answers an unknown or malformed token the same way, counted', async () => {
    const a = (await as(h, owner)('POST', `/bots/${bot.id}/bridge-script-link`)).json();
    const b = (await as(h, owner)('POST', `/bots/${bot.id}/bridge-script-link`)).json();
    now += 600_000 - 1;
    expect((await fetchLink(a.path)).statusCode).toBe(200);
    now += 1;
    const expired = await fetchLink(b.path);
    const unknown = await fetchLink(`/api/v1/bridge-script/${'A'.repeat(32)}`);
    const malformed = await fetchLink('/api/v1/bridge-script/not-a-token');
    for (const res of [expired, unknown, malformed]) {
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    }
    // No hint: the three answers are one and the same.
    expect(new Set([expired.body, unknown.body, malformed.body]).size).toBe(1);
    const before = await misses();
    await fetchLink(b.path);
    expect(await misses()).toBe(before + 1);
    // A used link is gone at once, an expired one as new links are made.
    await as(h, owner)('POST', `/bots/${bot.id}/bridge-script-link`);
    const { rows } = await h.db.query(`select count(*)::int as n from kb_bridge_links where bot_id = $1`, [bot.id]);
    expect(rows[0].n).toBe(1);
  });

  it("takes a deleted bot's links with it", async () => {
    const gone = (await as(h, owner)('POST', '/bots', { name: 'short-lived' })).json();
    const link = (await as(h, owner)('POST', `/bots/${gone.id}/bridge-script-link`)).json();
    expect((await as(h, owner)('DELETE', `/bots/${gone.id}`)).statusCode).toBe(204);
    expect((await fetchLink(link.path)).statusCode).toBe(404);
  });

  it('is documented in the OpenAPI document, the link open to anyone holding it', async () => {
    const spec = (await h.api.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    expect(spec.paths['/api/v1/bots/{id}/bridge-script-link'].post.security).toEqual([{ session: [] }, { apiKey: [] }]);
    expect(spec.paths['/api/v1/bots/{id}/bridge-script'].get).toBeDefined();
    expect(spec.paths['/api/v1/bridge-script/{token}'].get.security).toEqual([]);
  });
});
