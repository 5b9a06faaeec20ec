import type { Socket } from 'socket.io-client';
import type { ErrorExplanation, Json, JsonEvents, RunJoinAnswer, RunStats, RunView, ServerToClientEvents } from '@domaeka/broker/contracts';
import { api, ApiError } from './api';
import { RunOutput } from './run-output';
import { getSocket, type LiveSocket } from './socket';

export type RunPhase = 'idle' | 'starting' | 'queued' | 'running' | 'succeeded' | 'failed';

/** What the result panel shows; a new object on every change (the page assigns it to $state). */
export interface RunState {
  runId: string | null;
  phase: RunPhase;
  output: string;
  stats: RunStats | null;
  run: Json<RunView> | null;
  /** `details` of a refused start (e.g. KB_ERR_RATE_LIMITED: retryAfterSec); `explanation`: the runtime's Korean sentence for a common mistake. */
  error: { code: string; message: string; line?: number; explanation?: ErrorExplanation; details?: Record<string, unknown> } | null;
}

/** What the API sends the socket, as JSON brings it. */
type Listened = JsonEvents<ServerToClientEvents>;

export const idleRun: RunState = { runId: null, phase: 'idle', output: '', stats: null, run: null, error: null };

/** While a run lasts and the socket is down (or never joined), GET /runs/:id this often. */
const POLL_MS = 1500;
/** With a joined socket, a REST look now and then anyway: `run:result` reaches only the API process that started the run. */
const SAFETY_POLL_MS = 6000;

/**
 * A test run seen from the page: `POST /runs`, then the run's socket.io room
 * (`run:join`, whose answer is the run so far) for output, CPU/memory and the
 * result as they happen, and `GET /runs/:id` to catch up when the socket is
 * down, joined late or reconnected. The page's shared socket (socket.ts),
 * its listeners taken off on dispose. Output chunks and snapshots are put together by RunOutput.
 */
export class RunManager {
  private socket: LiveSocket | null = null;
  private state: RunState = idleRun;
  private joined = false;
  private joining = false;
  private log = new RunOutput();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastRestAt = 0;
  /** Takes this manager's listeners off the shared socket again (dispose). */
  private offs: (() => void)[] = [];

  constructor(private readonly onChange: (s: RunState) => void) {}

  get current(): RunState {
    return this.state;
  }

  get active(): boolean {
    return this.state.phase === 'starting' || this.state.phase === 'queued' || this.state.phase === 'running';
  }

  async start(code: string, input: Record<string, unknown>, commandId?: number): Promise<void> {
    this.stopWatching();
    this.log = new RunOutput();
    this.set({ ...idleRun, phase: 'starting' });
    let runId: string;
    try {
      ({ runId } = await api<{ runId: string }>('POST', '/runs', { code, input, ...(commandId ? { commandId } : {}) }));
    } catch (err) {
      const e = err instanceof ApiError ? { code: err.code, message: err.message, details: err.details } : { code: 'KB_ERR_NETWORK', message: String(err) };
      this.set({ ...idleRun, phase: 'failed', error: e });
      return;
    }
    this.set({ ...this.state, runId, phase: 'queued' });
    this.lastRestAt = Date.now();
    this.schedule();
    this.join(runId);
  }

  /**
   * ⏹: `POST /runs/:id/stop` ends the run as stopped (KB_ERR_RUN_STOPPED)
   * and its result is dropped; the answer is the stopped run, shown at
   * once. A run that ended meanwhile answers as it ended.
   */
  async stop(): Promise<void> {
    const runId = this.state.runId;
    if (!runId || !this.active) return;
    try {
      const run = await api<Json<RunView>>('POST', `/runs/${runId}/stop`);
      if (run.id === this.state.runId) this.finish(run);
    } catch {
      // Not stopped (the API away): the run goes on being watched and ends as it ends.
    }
  }

  /** The page is leaving: no more events, no more polls. */
  dispose(): void {
    this.stopWatching();
    for (const off of this.offs) off();
    this.offs = [];
    this.socket = null;
  }

  private set(s: RunState): void {
    this.state = s;
    this.onChange(s);
  }

  private ensureSocket(): LiveSocket {
    if (this.socket) return this.socket;
    const socket = getSocket();
    // Each call is checked against the API's event map by this signature; socket.io's overloads cannot follow a generic name, hence the plain socket inside.
    const on = <E extends keyof Listened | 'connect' | 'disconnect'>(event: E, fn: E extends keyof Listened ? Listened[E] : () => void) => {
      const plain = socket as unknown as Socket;
      const listener = fn as (...args: unknown[]) => void;
      plain.on(event as string, listener);
      this.offs.push(() => plain.off(event as string, listener));
    };
    on('run:output', (e) => {
      if (e.runId !== this.state.runId || !this.active || !this.log.add(e.seq, e.data)) return;
      this.set({ ...this.state, phase: 'running', output: this.log.text() });
    });
    on('run:stats', (e) => {
      if (e.runId !== this.state.runId || !this.active) return;
      const { runId: _, ...stats } = e;
      this.set({ ...this.state, phase: 'running', stats });
    });
    on('run:result', (run) => {
      if (run.id === this.state.runId) this.finish(run);
    });
    // A reconnect lost the room: join again, the answer brings what was missed.
    on('connect', () => {
      if (this.active && this.state.runId && !this.joined && !this.joining) this.join(this.state.runId);
    });
    on('disconnect', () => {
      this.joined = false;
    });
    this.socket = socket;
    return socket;
  }

  private join(runId: string): void {
    const socket = this.ensureSocket();
    this.joined = false;
    this.joining = true;
    socket
      .timeout(5000)
      .emitWithAck('run:join', { runId })
      .finally(() => (this.joining = false))
      .then((ack: Json<RunJoinAnswer>) => {
        if (runId !== this.state.runId || !this.active) return;
        if (!ack.ok) return; // polling carries on
        this.joined = true;
        this.catchUp(ack.run);
      })
      .catch(() => undefined); // not connected in time: polling carries on, `connect` joins later
  }

  /** A snapshot of the run (join answer or REST): everything printed so far, or the end. */
  private catchUp(run: Json<RunView>): void {
    if (run.status === 'succeeded' || run.status === 'failed') return this.finish(run);
    this.log.snapshotOf(run.output);
    this.set({ ...this.state, phase: run.status === 'running' ? 'running' : this.state.phase, output: this.log.text() });
  }

  private finish(run: Json<RunView>): void {
    if (!this.active) return;
    this.stopWatching();
    this.set({ ...this.state, phase: run.status === 'succeeded' ? 'succeeded' : 'failed', run, output: run.output, error: run.error });
    this.socket?.emit('run:leave', { runId: run.id });
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    this.timer = null;
    const runId = this.state.runId;
    if (!runId || !this.active) return;
    const due = !this.joined || Date.now() - this.lastRestAt >= SAFETY_POLL_MS;
    if (due) {
      this.lastRestAt = Date.now();
      try {
        const run = await api<Json<RunView>>('GET', `/runs/${runId}`);
        if (runId !== this.state.runId) return;
        if (run.status === 'succeeded' || run.status === 'failed') return this.finish(run);
        if (!this.joined) this.catchUp(run);
      } catch {
        // A blip: the next tick tries again.
      }
    }
    if (this.active && runId === this.state.runId) this.schedule();
  }

  private stopWatching(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.state.runId && this.active) this.socket?.emit('run:leave', { runId: this.state.runId });
    this.joined = false;
  }
}
