import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPhone, type Phone } from '../support/phone.js';
import { startStack, type Stack } from '../support/stack.js';
import { TenantClient } from '../support/tenant-client.js';
import { waitFor } from '../support/wait.js';

/**
 * A premium tenant's Python calls its own shop API through the egress
 * proxy (DESIGN.md section 5), the whole path: the allowlist saved through
 * the API, sent by the dispatcher with the room's call, applied by the
 * runner's proxy; removing the name refuses the next call; a free
 * tenant's code gets the Korean refusal; an editor test run reaches what
 * the room's call would.
 */
const SHOP = 'api.shop.example';

const STOCK = (port: number) => `
import requests
def handle_command(params):
    item = params["parameters"][0]
    r = requests.get(f"http://${SHOP}:${port}/stock/{item}", timeout=5)
    if r.status_code != 200:
        return f"조회 실패 ({r.status_code}): {r.text.strip()}"
    return r.text.strip()
`;

describe('egress: tenant Python reaches its allowlisted API, and only that', () => {
  let stack: Stack;
  let premium: TenantClient;
  let phone: Phone;
  let logSeq = 9000;

  const ask = async (text: string) => {
    phone.sendMessage({ room: '재고방', channelId: '4242', text, logId: String(logSeq++) });
    return phone.nextReply();
  };

  beforeAll(async () => {
    stack = await startStack(
      'egress-path',
      {
        '/stock/apple': (_req, res) => {
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end('사과 재고 12개');
        },
      },
      { runner: true, stubNames: [SHOP] },
    );
    premium = await TenantClient.signup(stack.api, 'egress@shop.example');
    // Premium before any message (no cache holds the free plan yet).
    await stack.pool.query(`update tenants set plan_id = 'premium' where id = (select tenant_id from users where email = $1)`, ['egress@shop.example']);
    const bot = await premium.ok('POST', '/bots', { name: 'LOA.egress' });
    await premium.ok('POST', '/commands', { command: '재고', target: { type: 'sandbox', language: 'python', code: STOCK(stack.stub.port) } });
    phone = await connectPhone('127.0.0.1', stack.gateway.bridgePort);
    await phone.handshake({ botName: bot.name, deviceID: 'android-egress', secretKey: bot.secretKey, salt: bot.salt });
    await premium.approveDevice(bot.id, 'android-egress');
  });

  afterAll(async () => {
    phone?.destroy();
    await stack?.close();
  });

  it('answers from the tenant API once its name is on the allowlist; refuses it again once removed', async () => {
    const refused = await ask('재고 apple');
    expect(refused).toMatch(/^조회 실패 \(403\): 외부 접속이 허용되지 않은 주소입니다 \/ egress refused: api\.shop\.example is not in the domain allowlist/);
    expect(stack.stub.requests.filter((r) => r.path === '/stock/apple')).toHaveLength(0);

    const saved = await premium.ok('PUT', '/egress', { domains: [SHOP] });
    expect(saved).toMatchObject({ enabled: true, domains: [SHOP] });
    // The save reaches the dispatcher as a `changed` event on another queue than the room's message: ask until it shows.
    await waitFor(async () => ((await ask('재고 apple')) === '사과 재고 12개' ? true : undefined), { what: 'the allowlisted API answering' });
    expect(stack.stub.requests.some((r) => r.path === '/stock/apple' && r.headers.host === `${SHOP}:${stack.stub.port}`)).toBe(true);

    await premium.ok('PUT', '/egress', { domains: [] });
    await waitFor(async () => ((await ask('재고 apple')).startsWith('조회 실패 (403)') ? true : undefined), { what: 'the removed name refused' });
  });

  it('lets an editor test run reach what the room call would', async () => {
    await premium.ok('PUT', '/egress', { domains: ['*.shop.example'] });
    const { runId } = await premium.ok<{ runId: string }>('POST', '/runs', { code: STOCK(stack.stub.port), input: { parameters: ['apple'] } });
    const run = await waitFor(async () => {
      const r = await premium.ok<{ status: string; result: { text?: string } | null }>('GET', `/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    }, { what: 'the test run to finish' });
    expect(run).toMatchObject({ status: 'succeeded', result: { text: '사과 재고 12개' } });
  });

  it("refuses a free tenant's code in Korean, whatever its saved list says", async () => {
    const free = await TenantClient.signup(stack.api, 'free-egress@shop.example');
    await free.ok('PUT', '/egress', { domains: [SHOP] });
    const { runId } = await free.ok<{ runId: string }>('POST', '/runs', { code: STOCK(stack.stub.port), input: { parameters: ['apple'] } });
    const run = await waitFor(async () => {
      const r = await free.ok<{ status: string; result: { text?: string } | null }>('GET', `/runs/${runId}`);
      return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
    }, { what: 'the free test run to finish' });
    expect(run.result?.text).toMatch(/^조회 실패 \(403\): 이 실행 환경에는 외부 접속이 허용되지 않습니다/);
  });
});
