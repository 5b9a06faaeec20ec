import { afterEach, describe, expect, it } from 'vitest';
import { BrokerConnection, brokerNodeLabel } from '@domaeka/broker';
import { AMQP_URL } from '../../test/support/env.js';
import { freePort } from '../../test/support/platform.js';

/** Every log line with its fields, as written. */
function recordingLogger() {
  const lines: { msg: string; obj: Record<string, unknown> }[] = [];
  const put = (obj: object, msg?: string) => void lines.push({ msg: msg ?? '', obj: obj as Record<string, unknown> });
  return { lines, logger: { info: put, warn: put, error: put } };
}

/** AMQP_URL naming several nodes: a node that refuses is passed over for the next one of the list. */
describe('BrokerConnection with a list of nodes', () => {
  let conn: BrokerConnection | null = null;
  afterEach(async () => {
    await conn?.close();
  });

  it('passes over a node that refuses, connects to the next one, and says which, never with the password', async () => {
    const dead = `amqp://guest:guest@127.0.0.1:${await freePort()}`; // nobody listens there: refused at once
    const { lines, logger } = recordingLogger();
    conn = new BrokerConnection({ url: `${dead},${AMQP_URL}`, connectionName: 'nodes-test', logger, minBackoffMs: 20 });
    expect(conn.state.node).toBe(brokerNodeLabel(dead));
    let hooks = 0;
    await conn.onReady(async () => void hooks++);
    await conn.start();

    expect(conn.state).toMatchObject({ status: 'connected', attempts: 0, node: brokerNodeLabel(AMQP_URL) });
    expect(conn.readiness()).toBe(true);
    expect(hooks).toBe(1);
    const failed = lines.find((l) => l.msg.startsWith('broker connect failed'));
    expect(failed?.obj.node).toBe(brokerNodeLabel(dead));
    expect(lines.at(-1)?.msg).toBe(`broker connected to ${brokerNodeLabel(AMQP_URL)}`);
    expect(JSON.stringify(lines)).not.toContain('guest:guest');
  });

  it('a single URL connects as before, its node in the state', async () => {
    conn = new BrokerConnection({ url: AMQP_URL, connectionName: 'nodes-single', logger: recordingLogger().logger });
    await conn.start();
    expect(conn.state).toMatchObject({ status: 'connected', attempts: 0, lastError: null, node: brokerNodeLabel(AMQP_URL) });
  });
});
