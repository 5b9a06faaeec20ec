import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import type { Gateway } from '../src/app.js';
import { identity, openRig, phoneFor, type BrokerTap, type Db, type GatewayRig, type SeededBot } from './helpers.js';

let rig: GatewayRig;
let gw: Gateway;
let db: Db;
let tap: BrokerTap;
let bot: SeededBot;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  rig = await openRig('gw-tls', { env: { BRIDGE_TLS_CERT: cert, BRIDGE_TLS_KEY: key } });
  ({ gw, db, tap, bot } = rig);
});

afterAll(async () => {
  await rig?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('BRIDGE_TLS_CERT / BRIDGE_TLS_KEY', () => {
  it('serves the same protocol over TLS', async () => {
    const phone = await phoneFor(gw, { tls: true });
    const id = identity(bot);
    expect(await phone.handshake(id)).toMatchObject({ success: true });
    const deviceId = (await waitFor(() => db.device(bot.botId, id.deviceID))).id;
    phone.sendMessage({ room: '방', channelId: '1', text: '암호화된 연결' });
    await tap.nextEvent((e) => e.payload.text === '암호화된 연결');
    await tap.reply(deviceId, { text: '답장' });
    expect(await phone.nextReply()).toBe('답장');
    await phone.close();
  });

  it('a plain-TCP client gets nothing it can use', async () => {
    const plain = await phoneFor(gw);
    await plain.handshake(identity(bot), { wait: false });
    await plain.waitClosed();
    expect(plain.packets).toEqual([]);
  });
});
