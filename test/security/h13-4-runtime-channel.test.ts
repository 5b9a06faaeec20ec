import { createHash, randomBytes } from 'node:crypto';
import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names, routingKeys, type EnvelopeOf, type RunnerCallPayload, type RunnerOutputPayload, type RunnerResultPayload } from '@domaeka/broker';
import { buildRunner, type Runner } from '../../services/runner/src/app.js';
import { parseRunnerConfig } from '../../services/runner/src/config.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { RpcCaller } from '../support/runner-rpc.js';
import { waitFor } from '../support/wait.js';
import { PREMIUM_PROFILE } from './harness.js';

/**
 * Issue 13, hole 4: "Forged runtime frames bypass the output cap." Tenant
 * code writes complete protocol frames (a response with 3,000,000
 * characters of output and a forged result, and output events of a
 * megabyte each) to every fd it can reach: 0-20, /proc/self/fd/*, the fds
 * of every other process it can see (/proc/<pid>/fd/*: the runtime's
 * supervisor), and the runtime socket. Whatever the framing, what the
 * runner accepts for one call stays within the output cap (64 KiB, in the
 * answer and in what is streamed), and the result is the tenant's real
 * return value or a clear error, never the forged one. In a dedicated
 * container the tenant's next call still answers.
 */
const OUTPUT_CAP = 64 * 1024;

const FORGER = `
import os, sys, struct, json, time
calls = 0

def _rid():
    f = sys._getframe()
    found = []
    while f is not None:
        for v in list(f.f_locals.values()):
            if isinstance(v, dict) and v.get("op") == "call" and "id" in v:
                found.append(v["id"])
        f = f.f_back
    return found

def _frames(rid, events):
    out = []
    for _ in range(3 if events else 0):
        ev = json.dumps({"id": rid, "event": "output", "data": "E" * 1000000}).encode()
        out.append(struct.pack(">I", len(ev)) + ev)
    body = json.dumps({"id": rid, "ok": True, "result": {"type": "text", "text": "forged"},
                       "output": "O" * 3000000, "outputTruncated": False, "durationMs": 1}).encode()
    out.append(struct.pack(">I", len(body)) + body)
    return b"".join(out)

def _write(fd, data):
    # As much as the fd takes without blocking for good (a pipe nobody reads), its mode restored after.
    try:
        was = os.get_blocking(fd)
        os.set_blocking(fd, False)
    except OSError:
        return False
    view = memoryview(data)
    wrote = False
    stalled = 0
    try:
        while view and stalled < 50:
            try:
                view = view[os.write(fd, view):]
                wrote = True
                stalled = 0
            except BlockingIOError:
                stalled += 1
                time.sleep(0.001)
    except OSError:
        pass
    finally:
        try:
            os.set_blocking(fd, was)
        except OSError:
            pass
    return wrote

def _forge(events):
    ids = _rid() or [1]
    data = b"".join(_frames(i, events) for i in ids[:2])
    hit = []
    for fd in range(0, 21):
        if _write(fd, data):
            hit.append(str(fd))
    targets = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                targets += ["/proc/%s/fd/%s" % (pid, n) for n in os.listdir("/proc/%s/fd" % pid)]
            except OSError:
                pass
    for path in targets:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue
        if _write(fd, data):
            hit.append(path)
        os.close(fd)
    import socket
    for path in ("/run/kb/rt.sock",):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(0.5)
            s.connect(path)
            s.sendall(data)
            hit.append(path)
            s.close()
        except OSError:
            pass
    return hit

def handle_command(params):
    global calls
    calls += 1
    if params.get("raw_text") in ("forge", "forge-response"):
        _forge(params["raw_text"] == "forge")
        print("real print")
        return "real answer"
    print("calm")
    return "calm #%d" % calls
`;

describe('security h13-4: forged runtime frames', () => {
  let env: TestEnv;
  let runner: Runner;
  let caller: RpcCaller;
  let conn: ChannelModel;
  const runnerId = `t-sec-h134-${randomBytes(3).toString('hex')}`;
  const observed: string[] = [];
  /** runner.output telemetry per call id: what the runner streamed for it. */
  const streamed = new Map<string, number>();

  beforeAll(async () => {
    env = await createTestEnv('security-h13-4');
    runner = buildRunner(parseRunnerConfig({ ...env.env, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: '1', RUNNER_ID: runnerId }));
    await runner.start();
    caller = await RpcCaller.connect(env.amqpUrl);
    conn = await amqp.connect(env.amqpUrl);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, names(env.brokerPrefix).telemetry, routingKeys.runnerOutputAll);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const e = JSON.parse(m.content.toString()) as EnvelopeOf<RunnerOutputPayload>;
        streamed.set(e.payload.callId, (streamed.get(e.payload.callId) ?? 0) + Buffer.byteLength(e.payload.data));
      },
      { noAck: true },
    );
  });

  afterAll(async () => {
    await conn?.close().catch(() => undefined);
    await caller?.close();
    await runner?.stop();
    await env?.cleanup();
    for (const line of observed) console.log(line);
  });

  const version = `1:${createHash('sha256').update(FORGER).digest('hex').slice(0, 16)}`;
  const call = async (tenantId: string, rawText: string, over: Partial<RunnerCallPayload> = {}): Promise<RunnerResultPayload> => {
    const payload = caller.callPayload({ tenantId, code: FORGER, codeVersion: version, timeoutMs: 4000, params: { raw_text: rawText }, ...over });
    const r = await caller.call(runner.queue, payload);
    observed.push(
      `[h13-4] ${tenantId} ${rawText}${over.live ? ' (live)' : ''} -> ${r.ok ? `ok: ${String(r.result?.text).slice(0, 60)}` : `${r.error?.code}: ${r.error?.message.split('\n')[0]!.slice(0, 140)}`}; output ${Buffer.byteLength(r.output)} bytes${r.outputTruncated ? ' (truncated)' : ''}`,
    );
    return { ...r, callId: payload.callId };
  };

  /**
   * What the runner streamed for a call, once all of it arrived: a later live call's output
   * travels the same publisher channel and queue, so when it is here, the earlier call's is too.
   */
  const streamedFor = async (callId: string): Promise<number> => {
    const marker = await call('marker', 'mark', { live: true });
    await waitFor(() => streamed.has(marker.callId), { what: "the marker call's output telemetry" });
    return streamed.get(callId) ?? 0;
  };

  /** Within the cap, and the tenant's own answer or a clear refusal: never the forged result. */
  const contained = (r: RunnerResultPayload) => {
    expect(Buffer.byteLength(r.output), 'stored output within the 64 KiB cap').toBeLessThanOrEqual(OUTPUT_CAP);
    expect(r.output).not.toMatch(/O{70000}/);
    expect(r.result?.text).not.toBe('forged');
    if (r.ok) {
      expect(r.result).toEqual({ type: 'text', text: 'real answer' });
      expect(r.output).toContain('real print');
    } else {
      expect(r.error?.code).toMatch(/^KB_ERR_(SANDBOX_CRASHED|INVALID_RESULT)$/);
      expect(r.error?.message).toMatch(/runtime channel/);
    }
  };

  it('a test run (ephemeral, live): output within the cap, streamed output within the cap, never the forged result', async () => {
    const r = await call('forger-e', 'forge', { live: true });
    contained(r);
    expect(await streamedFor(r.callId), 'what the runner streamed for the call').toBeLessThanOrEqual(OUTPUT_CAP);
    // Another tenant right after: answered normally.
    const n = await call('calm-e', 'hello');
    expect(n.result).toEqual({ type: 'text', text: 'calm #1' });
  });

  it('a room call (ephemeral, not live): the same', async () => {
    contained(await call('forger-e2', 'forge'));
  });

  it('a response frame alone (no events): never the forged result', async () => {
    contained(await call('forger-e3', 'forge-response', { live: true }));
    contained(await call('forger-e4', 'forge-response'));
  });

  it("a dedicated container: contained, and the tenant's next call still answers", async () => {
    const dedicated = { mode: 'dedicated' as const, profile: PREMIUM_PROFILE };
    const warm = await call('forger-d', 'hello', dedicated);
    expect(warm.result).toEqual({ type: 'text', text: 'calm #1' });
    const r = await call('forger-d', 'forge', { ...dedicated, live: true });
    contained(r);
    expect(await streamedFor(r.callId)).toBeLessThanOrEqual(OUTPUT_CAP);
    const next = await call('forger-d', 'again', dedicated);
    expect(next.error, JSON.stringify(next.error)).toBeNull();
    // Module state survives when the forgery reached nothing; a recycled container starts over.
    expect(String(next.result?.text)).toMatch(/^calm #(1|3)$/);
    contained(await call('forger-d', 'forge', dedicated));
    contained(await call('forger-d', 'forge-response', dedicated));
    const after = await call('forger-d', 'after', dedicated);
    expect(String(after.result?.text)).toMatch(/^calm #\d$/);
  });
});
