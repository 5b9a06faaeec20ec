import { performance } from 'node:perf_hooks';
import { connectPhone } from '../test/support/phone.js';
import { TenantClient } from '../test/support/tenant-client.js';
import { containerMemory, containersOf, runningSandboxCount, type ContainerMemory } from './containers.js';
import { SANDBOX_CODE, SANDBOX_COMMAND, type BenchEnv } from './setup.js';

/**
 * sandbox-idle-memory (DESIGN.md section 7, density): a premium tenant of
 * its own (signed up, made premium, one bot, the sandbox command, one
 * phone) sends one message; once answered, its dedicated container sits
 * idle for a while and then its host memory is read (PSS of its processes
 * plus its containerd-shim). A new tenant, so the container has served
 * exactly one call. Without a dedicated container (the runner runs premium
 * ephemeral) an idle premium pool container is measured instead, and the
 * result says so.
 */

export interface IdleMemoryResult extends ContainerMemory {
  name: 'sandbox-idle-memory';
  /** What was measured: the tenant's dedicated container, or (no dedicated mode yet) an idle pooled one. */
  measured: 'dedicated' | 'pool';
  note: string | null;
  idleS: number;
  /** Sandbox containers running on the machine when measured (PSS shares pages among them). */
  sandboxContainersRunning: number;
  /** The one call: phone packet -> reply (ms). */
  firstCallMs: number;
  targetMB: number;
  meetsTarget: boolean;
}

const TARGET_MB = 40;

export async function measureIdleMemory(env: BenchEnv, idleS: number, say: (msg: string) => void): Promise<IdleMemoryResult> {
  say(`sandbox-idle-memory: a premium tenant of its own, one call, then ${idleS} s idle`);
  const email = `idle-${env.tag}@bench.example`;
  const tenant = await TenantClient.signup({ port: env.platform.ports.api }, email, '벤치 한가한 상점');
  await env.makePremium(email);
  const bot = await tenant.ok<{ id: string; name: string; secretKey: string; salt: string }>('POST', '/bots', { name: `idle-${env.tag}` });
  await tenant.ok('POST', '/commands', { command: SANDBOX_COMMAND, target: { type: 'sandbox', language: 'python', code: SANDBOX_CODE } });
  const phone = await connectPhone('127.0.0.1', env.platform.ports.bridge);
  try {
    await phone.handshake({ botName: bot.name, deviceID: 'idle-phone', secretKey: bot.secretKey, salt: bot.salt });
    await tenant.approveDevice(bot.id, 'idle-phone');

    const before = new Set((await containersOf(env.brokerPrefix)).map((c) => c.id));
    const t0 = performance.now();
    phone.sendMessage({ room: '한가한 방', channelId: `idle-${env.tag}`, text: `${SANDBOX_COMMAND} idle-1`, logId: `idle-${env.tag}-1` });
    const reply = await phone.nextReply(() => true, 30_000);
    const firstCallMs = Math.round((performance.now() - t0) * 100) / 100;
    if (reply !== 'ok idle-1') throw new Error(`sandbox-idle-memory: the call answered "${reply}"`);

    await new Promise((r) => setTimeout(r, idleS * 1000));
    const now = await containersOf(env.brokerPrefix);
    // The new tenant's container: dedicated, and not there before its first call.
    const dedicated = now.find((c) => c.role === 'dedicated' && !before.has(c.id));
    const pooled = now.find((c) => c.role === 'pool' && c.profile === 'premium') ?? now.find((c) => c.role === 'pool');
    const target = dedicated ?? pooled;
    if (!target) throw new Error('sandbox-idle-memory: no dedicated and no pooled container to measure');
    const mem = await containerMemory(target.id);
    const result: IdleMemoryResult = {
      name: 'sandbox-idle-memory',
      measured: dedicated ? 'dedicated' : 'pool',
      note: dedicated
        ? null
        : 'no dedicated container appeared (the runner runs premium ephemeral): measured an idle pooled container instead (interpreter ready, no tenant code loaded)',
      idleS,
      sandboxContainersRunning: await runningSandboxCount(),
      firstCallMs,
      ...mem,
      targetMB: TARGET_MB,
      meetsTarget: mem.pssMB <= TARGET_MB,
    };
    say(
      `  ${result.measured} container ${target.id.slice(0, 12)}: PSS ${mem.pssMB} MB (RSS ${mem.rssMB} MB, private ${mem.privateMB} MB) over ${mem.processes.length} processes + shim; ${result.sandboxContainersRunning} sandbox containers running`,
    );
    return result;
  } finally {
    phone.destroy();
  }
}
