import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { json, startHarness, type Harness, type Seeded } from './harness.js';

describe('dispatcher: only approved devices and rooms get replies', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('disp-approval', { stub: { '/hi': json({ text: '안녕하세요!' }) } });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function botWithHello(opts: Parameters<Harness['seed']['botWithDevice']>[0] = {}): Promise<Seeded> {
    const s = await h.seed.botWithDevice(opts);
    await h.seed.command(s.tenantId, { command: '인사', url: h.stub.url('/hi') });
    return s;
  }

  it('a pending device gets no reply; once approved it is served within the ~1 s re-read, without any event', async () => {
    const s = await botWithHello({ device: 'pending' });
    const replies = await h.watchRoute(`dev.${s.deviceId}`);
    const unapprovedBefore = h.dispatcher.counters.unapprovedDevice;

    const first = await h.analyze(s, { text: '인사' });
    expect(await h.done(first)).toMatchObject({ status: 'ignored', reply: null });
    expect(replies).toHaveLength(0);
    expect(h.dispatcher.counters.unapprovedDevice).toBe(unapprovedBefore + 1);
    expect(h.stub.requests.some((r) => r.json?.metadata?.event_id === first)).toBe(false);

    // Approved through the API; its `changed` event is still on its way when the phone writes again.
    await h.pool.query(`update devices set status = 'approved' where id = $1`, [s.deviceId]);
    h.advance(1_001);
    const second = await h.analyze(s, { text: '인사' });
    const r = await waitFor(() => replies.find((x) => x.id === second));
    expect(r.payload.text).toBe('안녕하세요!');
  });

  it('a blocked device is never answered', async () => {
    const s = await botWithHello({ device: 'blocked' });
    const replies = await h.watchRoute(`dev.${s.deviceId}`);
    h.advance(5_000);
    const id = await h.analyze(s, { text: '인사' });
    expect(await h.done(id)).toMatchObject({ status: 'ignored' });
    expect(replies).toHaveLength(0);
  });

  it('a room seen first is stored approved and answered, unless the bot wants manual room approval', async () => {
    const auto = await botWithHello();
    const replies = await h.watchRoute(`dev.${auto.deviceId}`);
    const id = await h.analyze(auto, { text: '인사', channelId: 'new-room-1', room: '새 방' });
    await waitFor(() => replies.find((x) => x.id === id));
    const { rows } = await h.pool.query(`select name, status from rooms where bot_id = $1 and channel_id = 'new-room-1'`, [auto.botId]);
    expect(rows[0]).toEqual({ name: '새 방', status: 'approved' });
  });

  it('a pending room (manual approval) gets no reply until approved; the changed event lets it in', async () => {
    const s = await botWithHello({ manualRoomApproval: true });
    const replies = await h.watchRoute(`dev.${s.deviceId}`);
    const unapprovedBefore = h.dispatcher.counters.unapprovedRoom;

    const first = await h.analyze(s, { text: '인사', channelId: 'manual-room' });
    expect(await h.done(first)).toMatchObject({ status: 'ignored' });
    expect(replies).toHaveLength(0);
    expect(h.dispatcher.counters.unapprovedRoom).toBe(unapprovedBefore + 1);
    const { rows } = await h.pool.query(`select status from rooms where bot_id = $1 and channel_id = 'manual-room'`, [s.botId]);
    expect(rows[0].status).toBe('pending');

    await h.pool.query(`update rooms set status = 'approved' where bot_id = $1 and channel_id = 'manual-room'`, [s.botId]);
    h.changed({ entity: 'room', tenantId: s.tenantId, botId: s.botId });
    // Each probe is a real message; the clock is frozen, so only the changed event can let one through.
    const answered = await waitFor(async () => {
      const id = await h.analyze(s, { text: '인사', channelId: 'manual-room' });
      return (await h.done(id)).status === 'replied' ? id : undefined;
    });
    expect(replies.map((r) => r.id)).toEqual([answered]);
  });

  it('picks up new and deleted commands on the `changed` event', async () => {
    const s = await botWithHello();
    const replies = await h.watchRoute(`dev.${s.deviceId}`);
    const warm = await h.analyze(s, { text: '메뉴' });
    expect(await h.done(warm)).toMatchObject({ status: 'no_match' });

    const menuId = await h.seed.command(s.tenantId, { command: '메뉴', url: h.stub.url('/hi') });
    h.changed({ entity: 'commands', tenantId: s.tenantId, botId: null });
    const answered = await waitFor(async () => {
      const id = await h.analyze(s, { text: '메뉴' });
      return (await h.done(id)).status === 'replied' ? id : undefined;
    });
    expect(replies.some((r) => r.id === answered)).toBe(true);

    await h.pool.query(`update kb_commands set deleted_at = now() where id = $1`, [menuId]);
    h.changed({ entity: 'commands', tenantId: s.tenantId, botId: null });
    await waitFor(async () => {
      const id = await h.analyze(s, { text: '메뉴' });
      return (await h.done(id)).status === 'no_match';
    });
  });

  it('acks and ignores an event of a bot that no longer exists', async () => {
    const id = await h.analyze({ botId: randomUUID(), botName: '사라진봇', deviceId: randomUUID() }, { text: '인사' });
    expect(await h.done(id)).toMatchObject({ status: 'ignored', tenantId: null });
  });
});
