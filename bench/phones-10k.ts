/**
 * `phones-10k` (issue 18 item 5b): N phones (default 10,000), each its own
 * device signed in per bridge v3.3, connected to ONE gateway process; then
 * what they cost and whether replies still flow:
 *
 * - connect: from the first TCP connect to the gateway counting all N
 *   (`gateway_devices_connected`), total and per phone; approving them over
 *   the API is timed apart;
 * - gateway RSS and V8 heap used per phone, RabbitMQ memory per phone
 *   (`erlang:memory(total)` of the node): after - before, over N, both read
 *   after 5 s idle;
 * - reply p50/p99 at `--rate` msg/s (200) for `--duration` s (20) spread
 *   over the phones in random order while all N stay connected; lost and
 *   doubled counted as in every bench scenario.
 *
 * Phones belong to bots of 100 (the per-bot cap) and come from 127.0.0.x
 * source addresses, 400 each (under the per-source cap of 500), so the
 * gateway runs with its production caps. Each phone's reply queue is a
 * quorum queue: RabbitMQ needs file handles for them (bench/README.md,
 * "phones-10k"). Run: `npx tsx bench/phones-10k.ts --phones 10000`.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { connectPhone, type PhoneIdentity } from '../test/support/phone.js';
import { parseBenchConfig } from './config.js';
import { ReplyTracker, runLoad } from './load.js';
import { setupBench, type BenchEnv, type BenchPhone } from './setup.js';

const say = (msg: string) => process.stderr.write(`[phones-10k] ${msg}\n`);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const PER_BOT = 100;
const PER_ADDRESS = 400;
const CONNECT_CONCURRENCY = 50;

const MB = 1024 * 1024;
const r2 = (v: number) => Math.round(v * 100) / 100;

async function gatewayGauge(env: BenchEnv, name: string): Promise<number> {
  const text = await (await fetch(env.metricsUrl('gateway'))).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return line ? Number(line.split(' ').pop()) : NaN;
}

function rssOf(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const rabbitEval = async (expr: string) => (await promisify(execFile)('rabbitmqctl', ['-q', 'eval', expr], { timeout: 60_000 })).stdout.trim();

/** The broker node's memory as it counts it (the node of RABBITMQ_NODENAME, else the local default). */
async function rabbitMemory(): Promise<number> {
  return Number(await rabbitEval('erlang:memory(total).'));
}

/** File descriptors the broker really has open, and what its file handle cache counts as used (quorum queues reserve some each). */
async function rabbitHandles(): Promise<{ openFds: number; fhcUsed: number; fhcLimit: number }> {
  const pid = (await rabbitEval('os:getpid().')).replace(/"/g, '');
  const info = await rabbitEval('file_handle_cache:info([total_used, total_limit]).');
  const num = (k: string) => Number(new RegExp(`${k},(\\d+)`).exec(info)?.[1] ?? NaN);
  return { openFds: readdirSync(`/proc/${pid}/fd`).length, fhcUsed: num('total_used'), fhcLimit: num('total_limit') };
}

async function pool<T>(items: T[], n: number, f: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await f(items[i]!, i);
    }
  }));
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<number> {
  const n = arg('phones', 10_000);
  const rate = arg('rate', 200);
  const durationS = arg('duration', 20);
  const warmRate = arg('warm-rate', 400);
  const startedAt = new Date();
  const config = parseBenchConfig(['--scenarios', 'http-latency', '--phones', '1', '--warmup', '5']);
  if (config === 'help') return 0;
  let env: BenchEnv | null = null;
  const undo: { cleanup: (() => Promise<void>) | null } = { cleanup: null };
  const phones: BenchPhone[] = [];
  process.on('SIGINT', () => void Promise.resolve(undo.cleanup?.()).finally(() => process.exit(130)));
  try {
    env = await setupBench(config, say, (c) => (undo.cleanup = c));
    const api = env.tenant!;
    const warm = new ReplyTracker(env.phones);
    const w = await runLoad(env.phones, warm, { key: 'warm', rate: 10, durationS: 1, stragglerS: 15 });
    if (w.stats.lost) throw new Error(`warm-up: ${w.stats.lost} unanswered; is the path working?`);
    const gwPid = env.pids().gateway;
    await new Promise((r) => setTimeout(r, 5000));
    const before = { rss: rssOf(gwPid), heap: await gatewayGauge(env, 'nodejs_heap_size_used_bytes'), rabbit: await rabbitMemory() };
    say(`baseline: gateway RSS ${r2(before.rss / MB)} MB, heap ${r2(before.heap / MB)} MB, RabbitMQ ${r2(before.rabbit / MB)} MB`);

    const bots: { id: string; name: string; secretKey: string; salt: string }[] = [];
    for (let b = 0; b < Math.ceil(n / PER_BOT); b++) {
      bots.push(await api.ok('POST', '/bots', { name: `p10k-${env.tag}-${b}` }));
    }
    say(`connecting ${n} phones (${bots.length} bots of ${PER_BOT}, ${Math.ceil(n / PER_ADDRESS)} source addresses, ${CONNECT_CONCURRENCY} at a time)`);
    const counted0 = await gatewayGauge(env, 'gateway_devices_connected');
    const t0 = performance.now();
    const slots = Array.from({ length: n }, (_, i) => i);
    const retries: string[] = [];
    await pool(slots, CONNECT_CONCURRENCY, async (i) => {
      const bot = bots[Math.floor(i / PER_BOT)]!;
      const deviceID = `p10k-${String(i).padStart(5, '0')}`;
      const identity: PhoneIdentity = { botName: bot.name, deviceID, secretKey: bot.secretKey, salt: bot.salt };
      // A phone whose handshake is not answered in time tries again, as the bridge script does after its backoff.
      for (let attempt = 1; ; attempt++) {
        const phone = await connectPhone('127.0.0.1', env!.platform.ports.bridge, { retain: false, localAddress: `127.0.0.${10 + Math.floor(i / PER_ADDRESS)}` });
        try {
          await phone.handshake(identity);
          phones.push({ phone, deviceID, room: `밀도방 ${i}`, channelId: `p10k-${env!.tag}-${i}` });
          break;
        } catch (err) {
          phone.destroy();
          retries.push(`${deviceID}: ${String(err).slice(0, 120)}`);
          if (attempt === 5) throw err;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      if ((i + 1) % 1000 === 0) say(`  ${i + 1} handshaken, ${Math.round(performance.now() - t0)} ms`);
    });
    const handshakenMs = performance.now() - t0;
    await waitUntil(`${n} devices counted`, async () => (await gatewayGauge(env!, 'gateway_devices_connected')) >= counted0 + n, 600_000);
    const connectMs = performance.now() - t0;
    if (retries.length) say(`  ${retries.length} handshakes tried again (not answered in time), e.g. ${retries[0]}`);
    say(`${n} phones counted in ${Math.round(connectMs)} ms (${r2(connectMs / n)} ms per phone; handshakes done at ${Math.round(handshakenMs)} ms)`);

    const ta = performance.now();
    const pending: { bot: string; key: string }[] = [];
    await pool(bots, 8, async (bot) => {
      const listed = await api.ok<{ deviceKey: string; status: string }[]>('GET', `/bots/${bot.id}/devices`);
      for (const d of listed) if (d.status !== 'approved') pending.push({ bot: bot.id, key: d.deviceKey });
    });
    await pool(pending, 32, async (d) => void (await api.ok('POST', `/bots/${d.bot}/devices/${encodeURIComponent(d.key)}/approve`)));
    const approveMs = performance.now() - ta;
    say(`approved over the API in ${Math.round(approveMs)} ms`);

    await new Promise((r) => setTimeout(r, 5000));
    const after = { rss: rssOf(gwPid), heap: await gatewayGauge(env, 'nodejs_heap_size_used_bytes'), rabbit: await rabbitMemory() };
    const connected = await gatewayGauge(env, 'gateway_devices_connected');
    say(`with ${n} more: gateway RSS ${r2(after.rss / MB)} MB, heap ${r2(after.heap / MB)} MB, RabbitMQ ${r2(after.rabbit / MB)} MB; devices connected ${connected}`);

    // Random phones: shuffled, then round-robin (each phone gets at most one message per pass).
    const order = [...phones];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const tracker = new ReplyTracker(order);
    // Each phone's first message is its room's first (the dispatcher records and approves the room): one pass over
    // all of them first, reported apart, so the measured replies are those of phones already in use.
    say(`first message of every phone: ${n} at ${warmRate} msg/s`);
    const cold = await runLoad(order, tracker, { key: 'c1', rate: warmRate, durationS: n / warmRate, stragglerS: 30 });
    await tracker.settle();
    say(`  ${cold.stats.received}/${cold.stats.sent} answered, lost ${cold.stats.lost}, p50 ${cold.stats.p50Ms} ms, p99 ${cold.stats.p99Ms} ms`);
    const handles = await rabbitHandles();
    say(`replies: ${rate} msg/s for ${durationS} s over ${n} phones in random order`);
    const { stats, run } = await runLoad(order, tracker, { key: 'd1', rate, durationS, stragglerS: 10 });
    await tracker.settle();
    const stillConnected = await gatewayGauge(env, 'gateway_devices_connected');
    const doubled = run.doubled();
    say(`  ${stats.received}/${stats.sent} answered, lost ${stats.lost}, doubled ${doubled}, p50 ${stats.p50Ms} ms, p99 ${stats.p99Ms} ms; devices still connected ${stillConnected}`);

    const out = {
      scenario: 'phones-10k',
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavgAtStart: os.loadavg().map(r2), note: 'shared 2-core machine, other helpers running: timings are noisy' },
      amqpUrl: (process.env.AMQP_URL ?? 'amqp://127.0.0.1:5672').replace(/\/\/[^@]*@/, '//'),
      rabbitmqNode: process.env.RABBITMQ_NODENAME ?? 'default',
      phones: n,
      bots: bots.length,
      sourceAddresses: Math.ceil(n / PER_ADDRESS),
      connect: { totalMs: Math.round(connectMs), perPhoneMs: r2(connectMs / n), handshakesDoneMs: Math.round(handshakenMs), concurrency: CONNECT_CONCURRENCY, handshakeRetries: retries.length, retriedExamples: retries.slice(0, 5), approveAllMs: Math.round(approveMs) },
      gateway: {
        rssBeforeMB: r2(before.rss / MB),
        rssAfterMB: r2(after.rss / MB),
        rssPerPhoneKB: r2((after.rss - before.rss) / n / 1024),
        heapBeforeMB: r2(before.heap / MB),
        heapAfterMB: r2(after.heap / MB),
        heapPerPhoneKB: r2((after.heap - before.heap) / n / 1024),
        devicesConnected: connected,
        devicesConnectedAfterLoad: stillConnected,
      },
      firstMessages: { rate: warmRate, sent: cold.stats.sent, received: cold.stats.received, lost: cold.stats.lost, doubled: cold.run.doubled(), p50Ms: cold.stats.p50Ms, p99Ms: cold.stats.p99Ms },
      rabbitmqHandles: handles,
      rabbitmq: { beforeMB: r2(before.rabbit / MB), afterMB: r2(after.rabbit / MB), perPhoneKB: r2((after.rabbit - before.rabbit) / n / 1024) },
      replies: { rate, durationS, sent: stats.sent, received: stats.received, lost: stats.lost, doubled, p50Ms: stats.p50Ms, p90Ms: stats.p90Ms, p99Ms: stats.p99Ms, maxMs: stats.maxMs, p50FirstQuarterMs: stats.p50FirstQuarterMs, p50LastQuarterMs: stats.p50LastQuarterMs, sendLagP99Ms: stats.sendLagP99Ms },
      target: { phonesPerGateway: 10_000, met: connected >= counted0 + n && stillConnected >= counted0 + n && n >= 10_000 && stats.lost === 0 && doubled === 0 && cold.stats.lost === 0 },
    };
    const file = new URL(`./results/${startedAt.toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z')}-phones-10k.json`, import.meta.url);
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    process.stdout.write(JSON.stringify(out, null, 2) + `\nwritten: ${file.pathname}\n`);
    return stats.lost === 0 && doubled === 0 ? 0 : 1;
  } finally {
    for (const p of phones) p.phone.destroy();
    say('cleaning up: phones, services, broker names, database');
    await undo.cleanup?.();
  }
}

process.exitCode = await main().catch((err: unknown) => {
  say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return 1;
});
process.exit(process.exitCode);
