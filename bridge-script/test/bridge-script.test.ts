import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../../services/gateway/src/app.js';
import { parseGatewayConfig } from '../../services/gateway/src/config.js';
import { json } from '../../test/support/http-stub.js';
import { startStack, TenantClient, type Stack } from '../../test/support/stack.js';
import { waitFor } from '../../test/support/wait.js';
import { bridgeTemplate, fillBridgeScript, RhinoPhone, type StandInEvent } from './rhino-phone.js';

/**
 * Our MessengerBot R bridge script (bridge-script/domaeka-bridge.js) run by
 * Debian's Rhino with a stand-in for the app's objects, against the real
 * gateway, dispatcher and API on this file's own database and broker
 * prefix, and a tenant HTTP API (a local stub). What a shop owner would see:
 * the phone listed as pending, a room message answered in the room, and the
 * phone finding its way back after the server restarts.
 */
describe('the bridge script in Rhino, against the real gateway', () => {
  let stack: Stack;
  let tenant: TenantClient;
  let bot: { id: string; name: string };
  let phone: RhinoPhone;
  const deviceId = 'f3a9c2b417e6d058'; // an ANDROID_ID: 16 hex digits
  // Adopted from a phone in the field: quotes, a backslash, `$&` and Hangul must survive the pre-fill and the HMAC.
  const secretKey = 'field-key "quoted" \\ $& 한글-0123456789';
  const salt = 'salt-$&-"솔트"';
  const room = '도매까 테스트방';
  const channelId = '18374686479671623'; // above 2^53: must reach the server digit for digit
  let logSeq = 7000;
  const say = (text: string) => {
    const m = { room, channelId, logId: String(logSeq++), sender: '김손님', text };
    phone.deliver(m);
    return m;
  };
  const posted = (text: string, from: number) => (e: StandInEvent) => e.kind === 'send' && e.room === room && e.text === text && phone.events.indexOf(e) >= from;
  const logged = (pattern: RegExp, from: number) => (e: StandInEvent) => e.kind === 'log' && pattern.test(e.text) && phone.events.indexOf(e) >= from;
  const weather = (place: string) => `🌤️ ${place} 날씨: 맑음, 15°C`;

  beforeAll(async () => {
    stack = await startStack('bridge-script', {
      '/weather': (req, res) => json({ text: weather(String(req.json?.parameters?.[0] ?? '?')) })(req, res),
    });
    tenant = await TenantClient.signup(stack.api, 'owner@bridge.example');
    bot = await tenant.ok('POST', '/bots', { name: '도매까 상점봇', secretKey, salt });
    await tenant.ok('POST', '/commands', { command: '날씨', pattern: '^날씨\\s+(\\S+)', target: { type: 'http', url: stack.stub.url('/weather') } });
  });

  afterAll(async () => {
    await phone?.kill();
    await stack?.close();
  });

  it('does not connect while its settings are unfilled, and signs as the protocol test vector', async () => {
    const vector = `print("vector " + DomaekaBridge.signature({ clientType: "MessengerBotR", botName: "LOA.i", deviceUUID: "dev1", macAddress: "unknown", ipAddress: "10.0.0.2", timestamp: 1732500000000 }, "k3y", "s4lt"));`;
    const blank = new RhinoPhone(bridgeTemplate(), { deviceId, extraFiles: { 'vector.js': vector } });
    try {
      const printed = await blank.next((e) => e.kind === 'print' && e.text.startsWith('vector '), { what: 'the test vector' });
      expect(printed.text).toBe('vector 01c95b5bcdd61c67b2257db60a3edbdbf4df32215b66efb3c73b23ac01a6d145');
      // The template runs its start() before vector.js: by now it has refused, in Korean first.
      expect(blank.logs()).toEqual([expect.stringMatching(/^e \[도매까\] 설정이 비어 있습니다.*SERVER_HOST, SERVER_PORT, BOT_NAME, SECRET_KEY, SALT$/)]);
    } finally {
      await blank.kill();
    }
  });

  it('handshakes, answers pings with signed pongs, and is listed as a pending phone until approved', async () => {
    const script = fillBridgeScript(bridgeTemplate(), { host: '127.0.0.1', port: stack.gateway.bridgePort, botName: bot.name, secretKey, salt });
    expect(script).not.toMatch(/"__DOMAEKA_[A-Z_]+__"/);
    phone = new RhinoPhone(script, { deviceId });
    await phone.next(logged(/pending approval/, 0), { what: 'the script told it awaits approval' });
    // The row appears on the phone's first signed packet; monitoring comes with its pong to our first ping.
    const device = await waitFor(
      async () => (await tenant.ok<any[]>('GET', `/bots/${bot.id}/devices`)).find((d) => d.deviceKey === deviceId && d.monitoring),
      { what: 'the phone listed with its pong' },
    );
    expect(device).toMatchObject({ status: 'pending', clientType: 'MessengerBotR', clientVersion: '3.3.3', info: 'samsung SM-S918N (Android 14)', ip: '127.0.0.1', rejectedPackets: 0 });
    expect(device.monitoring).toMatchObject({ message_queue_size: 0, active_rooms: 0 });
    expect(device.monitoring.total_memory).toBeGreaterThan(0);
    await tenant.approveDevice(bot.id, deviceId);
    expect((await tenant.ok<any[]>('GET', `/bots/${bot.id}/devices`))[0]).toMatchObject({ deviceKey: deviceId, status: 'approved' });
  });

  it('sends a room message to the server and posts the reply in that room', async () => {
    const from = phone.events.length;
    say('날씨 화도읍');
    await phone.next(posted(weather('화도읍'), from), { what: 'the reply in the room' });
    expect(phone.posts(room).slice(-1)).toEqual([weather('화도읍')]);

    const call = stack.stub.requests.find((r) => r.path === '/weather' && r.json?.raw_text === '날씨 화도읍')!;
    expect(call.json).toMatchObject({ command: '날씨', parameters: ['화도읍'], room, channel_id: channelId, metadata: { device_id: deviceId, bot: bot.name } });
    const verdict = await stack.done((d) => d.eventId === call.json.metadata.event_id, 'the verdict');
    expect(verdict).toMatchObject({ status: 'replied', reply: { type: 'text', text: weather('화도읍') } });
  });

  it('finds its way back after the gateway restarts: a message sent meanwhile is answered, and the next one too', async () => {
    const port = stack.gateway.bridgePort;
    const from = phone.events.length;
    // Every packet so far (handshake, pongs, the message) taken: none refused for its signature or form.
    expect(stack.gateway.stats()).toMatchObject({ rejected: {}, packets: { handshake: 1, message: 1, pong: expect.any(Number) } });
    await stack.gateway.stop();
    await phone.next(logged(/disconnected; reconnecting/, from), { what: 'the script noticing the gateway is gone' });
    say('날씨 부산'); // the server is away: the script keeps it (30 s) and sends it once back

    const restarted: Gateway = buildGateway(parseGatewayConfig({ ...stack.env.env, BRIDGE_HOST: '127.0.0.1', BRIDGE_PORT: String(port), GATEWAY_HTTP_PORT: '0' }));
    stack.gateway = restarted; // stack.close() stops this one
    await restarted.start();

    await phone.next(logged(/connected, approved/, from), { what: 'the script reconnected by itself', timeoutMs: 30_000 });
    await phone.next(posted(weather('부산'), from), { what: 'the message sent while away answered', timeoutMs: 30_000 });
    const next = phone.events.length;
    say('날씨 서울');
    await phone.next(posted(weather('서울'), next), { what: 'the next message answered' });
    expect(phone.posts(room).slice(-3)).toEqual([weather('화도읍'), weather('부산'), weather('서울')]);
    expect(restarted.stats()).toMatchObject({ rejected: {}, packets: { handshake: 1, message: 2 } });
  });

  it('lets go of its connection when the app recompiles the script', async () => {
    const [device] = await tenant.ok<{ id: string }[]>('GET', `/bots/${bot.id}/devices`);
    await waitFor(() => stack.gateway.registry.holder(device!.id), { what: 'the connection counted' });
    const from = phone.events.length;
    phone.compile();
    await phone.next(logged(/\(stopped\)/, from), { what: 'the script stopped' });
    await waitFor(() => !stack.gateway.registry.holder(device!.id), { what: 'the gateway saw the connection close' });
  });
});
