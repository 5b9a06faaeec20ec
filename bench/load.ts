import { performance } from 'node:perf_hooks';
import type { ReceivedPacket } from '../test/support/phone.js';
import { COMMAND, type BenchPhone } from './setup.js';

/**
 * Open-loop load: message i of a run is due at start + i/rate and is sent
 * when due (late only if this process cannot keep up, which `sendLag`
 * shows), never waiting for replies. Messages go round-robin over the
 * phones; each carries a unique log_id and its id in the text
 * (`bench <run>-<i>`), which the stub (or the sandbox command) echoes
 * (`ok <run>-<i>`). Latency is
 * the phone's packet written -> its messageResponse packet received, on
 * this process' high-resolution clock.
 */

export interface LoadSpec {
  /** Unique per run (part of every message id and log_id). */
  key: string;
  rate: number;
  durationS: number;
  /** How long after the last send to wait for replies before counting the lost. */
  stragglerS: number;
  /** The command word (default `bench`, the HTTP command; `sbench` is the sandbox one). */
  command?: string;
  /**
   * Seconds sent at the same rate before the measured part, counted in no
   * figure: the run is measured in its steady state, not in the first
   * second after the pause before it (settling the warm-up, scraping
   * metrics), when every process wakes from idle (p50 2-3x the rest).
   */
  leadInS?: number;
  /** Called once, just before the first measured message goes out (snapshots of CPU and metrics). */
  onMeasureStart?: () => void;
}

/** What the phones saw of a stretch of a run's messages (phone packet written -> first reply). */
export interface LatencyFigures {
  sent: number;
  received: number;
  lost: number;
  doubled: number;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
  /** Replies per second: answered messages / (last first-reply - first send). */
  throughputPerS: number;
}

export interface LoadStats extends LatencyFigures {
  /** Messages per second actually sent (the offered rate as achieved by this process). */
  sentPerS: number;
  /** How late sends went out against their schedule (this process' own lag). */
  sendLagP99Ms: number;
  sendLagMaxMs: number;
  /** Seconds from the first send to the loss count (the window the CPU figures cover). */
  elapsedS: number;
  /**
   * p50 of the messages sent in the first and in the last quarter of the
   * run: equal when the path keeps up, the last far above the first when a
   * queue builds up (saturation).
   */
  p50FirstQuarterMs: number | null;
  p50LastQuarterMs: number | null;
  /** The lead-in (not in any figure above), for the record: messages, p50 and p99. */
  leadIn?: { sent: number; p50Ms: number | null; p99Ms: number | null };
}

/** One run's bookkeeping, by message index. */
export class Run {
  readonly sentAt: Float64Array;
  readonly firstAt: Float64Array;
  readonly replies: Uint16Array;
  sent = 0;
  /** Replies that came after the loss count (answered, but later than the straggler wait). */
  late = 0;
  counting = true;

  constructor(readonly total: number) {
    this.sentAt = new Float64Array(total);
    this.firstAt = new Float64Array(total);
    this.replies = new Uint16Array(total);
  }

  onReply(i: number, at: number): void {
    if (i < 0 || i >= this.total || this.sentAt[i] === 0) return;
    if (this.replies[i]! < 65535) this.replies[i]!++;
    if (this.replies[i] === 1) {
      this.firstAt[i] = at;
      if (!this.counting) this.late++;
    }
  }

  /** Messages from `from` on answered more than once (so far). */
  doubled(from = 0): number {
    let n = 0;
    for (let i = from; i < this.sent; i++) if (this.replies[i]! > 1) n++;
    return n;
  }

  answered(): number {
    let n = 0;
    for (let i = 0; i < this.sent; i++) if (this.replies[i]! > 0) n++;
    return n;
  }
}

/** Routes every messageResponse packet of every phone to the run that sent it. */
export class ReplyTracker {
  private readonly runs = new Map<string, Run>();
  /** Replies matching no run (should stay 0). */
  unmatched = 0;
  /** The last few of them (an error text in the room says what went wrong). */
  readonly unmatchedTexts: string[] = [];
  lastReplyAt = 0;

  constructor(phones: BenchPhone[]) {
    for (const p of phones) p.phone.on('packet', (packet: ReceivedPacket) => this.onPacket(packet));
  }

  register(key: string, total: number): Run {
    const run = new Run(total);
    this.runs.set(key, run);
    return run;
  }

  private onPacket(p: ReceivedPacket): void {
    if (p.event !== 'messageResponse') return;
    const at = performance.now();
    this.lastReplyAt = at;
    const m = p.text === null ? null : /^ok (\S+)-(\d+)$/.exec(p.text);
    const run = m ? this.runs.get(m[1]!) : undefined;
    if (!m || !run) {
      this.unmatched++;
      this.unmatchedTexts.push(String(p.text).slice(0, 200));
      if (this.unmatchedTexts.length > 5) this.unmatchedTexts.shift();
      return;
    }
    run.onReply(Number(m[2]), at);
  }

  /** Waits until no reply arrived for `quietMs` (bounded): what is left of a run drains before the next starts. */
  async settle(quietMs = 1000, maxMs = 120_000): Promise<void> {
    const deadline = performance.now() + maxMs;
    for (;;) {
      const now = performance.now();
      if (now - this.lastReplyAt >= quietMs || now > deadline) return;
      await sleep(100);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  // Nearest rank.
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

const round = (v: number | null, digits = 2): number | null => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

/** Sends one run and measures it; resolves once every message is answered or the straggler wait is over. */
export async function runLoad(phones: BenchPhone[], tracker: ReplyTracker, spec: LoadSpec): Promise<{ stats: LoadStats; run: Run; lead: number }> {
  const lead = Math.round(spec.rate * (spec.leadInS ?? 0));
  const total = lead + Math.max(1, Math.round(spec.rate * spec.durationS));
  const run = tracker.register(spec.key, total);
  const lags = new Float64Array(total);
  const intervalMs = 1000 / spec.rate;
  const command = spec.command ?? COMMAND;
  const start = performance.now();

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
      while (run.sent < due) {
        const i = run.sent;
        if (i === lead) spec.onMeasureStart?.();
        const x = phones[i % phones.length]!;
        const id = `${spec.key}-${i}`;
        lags[i] = performance.now() - (start + i * intervalMs);
        x.phone.sendMessage({ room: x.room, channelId: x.channelId, text: `${command} ${id}`, logId: id });
        run.sentAt[i] = performance.now();
        run.sent++;
      }
      if (run.sent >= total) return resolve();
      // Next due message: sleep until then (timers fire no sooner than ~1 ms).
      const next = start + run.sent * intervalMs - performance.now();
      setTimeout(tick, Math.max(0, Math.floor(next)));
    };
    tick();
  });
  const lastSend = performance.now();

  const deadline = lastSend + spec.stragglerS * 1000;
  while (run.answered() < run.sent && performance.now() < deadline) await sleep(50);
  run.counting = false;
  const countedAt = performance.now();

  const quarterP50 = (from: number, to: number) => {
    const xs: number[] = [];
    for (let i = from; i < to; i++) if (run.replies[i]! > 0) xs.push(run.firstAt[i]! - run.sentAt[i]!);
    return quantile(Float64Array.from(xs).sort(), 0.5);
  };
  const measured = run.sent - lead;
  const q = Math.floor(measured / 4);
  const leadLat: number[] = [];
  for (let i = 0; i < lead; i++) if (run.replies[i]! > 0) leadLat.push(run.firstAt[i]! - run.sentAt[i]!);
  const leadSorted = Float64Array.from(leadLat).sort();
  const sortedLag = lags.slice(lead, run.sent).sort();
  const firstSend = run.sentAt[lead]!;
  const stats: LoadStats = {
    // The lead-in's messages count in no figure.
    ...latencyOf(run, lead, run.sent),
    sentPerS: round(measured > 1 ? (measured - 1) / ((run.sentAt[run.sent - 1]! - firstSend) / 1000) : 0, 1)!,
    sendLagP99Ms: round(quantile(sortedLag, 0.99) ?? 0)!,
    sendLagMaxMs: round(quantile(sortedLag, 1) ?? 0)!,
    elapsedS: round((countedAt - start) / 1000)!,
    p50FirstQuarterMs: round(quarterP50(lead, lead + q)),
    p50LastQuarterMs: round(quarterP50(run.sent - q, run.sent)),
    ...(lead ? { leadIn: { sent: lead, p50Ms: round(quantile(leadSorted, 0.5)), p99Ms: round(quantile(leadSorted, 0.99)) } } : {}),
  };
  return { stats, run, lead };
}

/** The figures of messages `from..to` (indices) of a run: a whole measured run, or one phase of it. */
export function latencyOf(run: Run, from: number, to: number): LatencyFigures {
  const lat: number[] = [];
  let doubled = 0;
  let lastFirst = 0;
  for (let i = from; i < to; i++) {
    if (run.replies[i]! === 0) continue;
    if (run.replies[i]! > 1) doubled++;
    lat.push(run.firstAt[i]! - run.sentAt[i]!);
    if (run.firstAt[i]! > lastFirst) lastFirst = run.firstAt[i]!;
  }
  const sorted = Float64Array.from(lat).sort();
  const firstSend = run.sentAt[from] ?? 0;
  return {
    sent: to - from,
    received: lat.length,
    lost: to - from - lat.length,
    doubled,
    p50Ms: round(quantile(sorted, 0.5)),
    p90Ms: round(quantile(sorted, 0.9)),
    p99Ms: round(quantile(sorted, 0.99)),
    maxMs: round(quantile(sorted, 1)),
    meanMs: round(lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : null),
    throughputPerS: round(lat.length && lastFirst > firstSend ? lat.length / ((lastFirst - firstSend) / 1000) : 0, 1)!,
  };
}
