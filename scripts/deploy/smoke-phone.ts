/**
 * The compose smoke's user journey (scripts/deploy/compose-smoke.sh runs it against a booted
 * `docker compose` deployment): a shop signs up through the web origin, makes a bot and a Python
 * command, a scripted phone (bridge v3.3) connects on the published bridge port and relays
 * "인사" from a room; the owner approves the phone, and the room gets the sandbox's answer, which
 * went through the tenant's store and tables (so the runner's sockets and its kb_data_gateway login
 * work too). A second message shows the state kept in the store.
 *
 *   SMOKE_WEB_PORT=3000 SMOKE_BRIDGE_PORT=1490 node --import tsx scripts/deploy/smoke-phone.ts
 *
 * Exit 0 with the replies printed; 1 with what was missing.
 */
import { connectPhone } from '../../test/support/phone.js';
import { TenantClient } from '../../test/support/tenant-client.js';

const webPort = Number(process.env.SMOKE_WEB_PORT ?? 3000);
const bridgePort = Number(process.env.SMOKE_BRIDGE_PORT ?? 1490);
const host = process.env.SMOKE_HOST ?? '127.0.0.1';
/** The first sandbox call of a fresh runner may wait for its pool: generous, still bounded. */
const REPLY_TIMEOUT_MS = 120_000;

const code = `from domaeka import store, db

def handle_command(params):
    n = store.incr("방문:" + params["sender"])
    db.execute("create table if not exists 방문 (이름 text primary key, 횟수 int)")
    db.execute("insert into 방문 values ($1, $2) on conflict (이름) do update set 횟수 = excluded.횟수", [params["sender"], n])
    row = db.query("select 횟수 from 방문 where 이름 = $1", [params["sender"]])[0]
    return f"안녕하세요, {params['sender']}님! {row['횟수']}번째 방문입니다"
`;

function step(text: string): void {
  console.log(`[smoke-phone] ${text}`);
}

const suffix = Date.now().toString(36);
step(`signing up through the web origin http://${host}:${webPort}`);
const tenant = await TenantClient.signup({ port: webPort }, `owner-${suffix}@compose.example`, '컴포즈 상점');
const bot = await tenant.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: `컴포즈봇-${suffix}` });
await tenant.ok('POST', '/commands', { command: '인사', target: { type: 'sandbox', language: 'python', code } });
step(`bot ${bot.name} with the sandbox command 인사`);

const phone = await connectPhone(host, bridgePort);
try {
  const hello = await phone.handshake({ botName: bot.name, deviceID: 'compose-phone', secretKey: bot.secretKey, salt: bot.salt });
  step(`phone connected to tcp://${host}:${bridgePort}: ${JSON.stringify(hello).slice(0, 160)}`);
  // The first signed packet lists the device; the message waits for the owner's approval.
  phone.sendMessage({ room: '단골방', channelId: 'room-1', text: '인사', sender: '홍길동' });
  await tenant.approveDevice(bot.id, 'compose-phone');
  step('phone approved; waiting for the sandbox reply');
  const first = await phone.nextReply(() => true, REPLY_TIMEOUT_MS);
  step(`reply 1: ${first}`);
  phone.sendMessage({ room: '단골방', channelId: 'room-1', text: '인사', sender: '홍길동' });
  const second = await phone.nextReply(() => true, REPLY_TIMEOUT_MS);
  step(`reply 2: ${second}`);
  const want = ['안녕하세요, 홍길동님! 1번째 방문입니다', '안녕하세요, 홍길동님! 2번째 방문입니다'];
  if (first !== want[0] || second !== want[1]) {
    console.error(`[smoke-phone] FAIL: replies ${JSON.stringify([first, second])}, want ${JSON.stringify(want)}`);
    process.exit(1);
  }
  step('OK: the room got the sandbox replies through the compose deployment');
} finally {
  phone.destroy();
}
process.exit(0);
