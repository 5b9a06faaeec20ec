import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batcher.js';

type Msg = { fields: { deliveryTag: number } };
const msg = (tag: number): Msg => ({ fields: { deliveryTag: tag } });

/** What the broker would receive: each frame as `ack <tag>` / `ack* <tag>` (multiple) / `nack <tag>`. */
function recording() {
  const frames: string[] = [];
  const batcher = new AckBatcher<Msg>({
    ack: (m, all) => void frames.push(`${all ? 'ack*' : 'ack'} ${m.fields.deliveryTag}`),
    nack: (m) => void frames.push(`nack ${m.fields.deliveryTag}`),
  });
  return { frames, batcher };
}

describe('AckBatcher', () => {
  it('acks a message handled alone with one plain ack, at the end of the turn', async () => {
    const { frames, batcher } = recording();
    const m = msg(1);
    batcher.delivered(m);
    batcher.ack(m);
    expect(frames).toEqual([]);
    await nextTurn();
    expect(frames).toEqual(['ack 1']);
  });

  it('acks messages handled in the same turn with one multiple ack', async () => {
    const { frames, batcher } = recording();
    const ms = [1, 2, 3, 4].map(msg);
    ms.forEach((m) => batcher.delivered(m));
    // Finished out of order, all in one turn.
    for (const i of [2, 0, 3, 1]) batcher.ack(ms[i]!);
    await nextTurn();
    expect(frames).toEqual(['ack* 4']);
    expect(batcher.sent).toEqual({ frames: 1, messages: 4 });
  });

  it('never covers a message still in hand: those behind it are acked one by one, it alone later', async () => {
    const { frames, batcher } = recording();
    const ms = [1, 2, 3].map(msg);
    ms.forEach((m) => batcher.delivered(m));
    batcher.ack(ms[1]!);
    batcher.ack(ms[2]!);
    await nextTurn();
    expect(frames.sort()).toEqual(['ack 2', 'ack 3']);
    frames.length = 0;
    batcher.ack(ms[0]!);
    await nextTurn();
    expect(frames).toEqual(['ack 1']);
  });

  it('nacks at once, and a later multiple ack passes over the nacked delivery', async () => {
    const { frames, batcher } = recording();
    const ms = [1, 2, 3].map(msg);
    ms.forEach((m) => batcher.delivered(m));
    batcher.nack(ms[1]!);
    expect(frames).toEqual(['nack 2']);
    batcher.ack(ms[0]!);
    batcher.ack(ms[2]!);
    await nextTurn();
    expect(frames).toEqual(['nack 2', 'ack* 3']);
  });

  it('flush() sends what is gathered at once (before a channel closes)', () => {
    const { frames, batcher } = recording();
    const ms = [5, 6].map(msg);
    ms.forEach((m) => batcher.delivered(m));
    ms.forEach((m) => batcher.ack(m));
    batcher.flush();
    expect(frames).toEqual(['ack* 6']);
  });
});
