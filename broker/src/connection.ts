import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { BrokerNodes } from './broker-nodes.js';
import { coalesceWrites } from './net/coalesce-writes.js';

export interface BrokerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BrokerOptions {
  /** One AMQP URL, or the comma-separated URLs of a cluster's nodes (tried in turn: ./broker-nodes.ts). */
  url: string;
  /** Shown in the RabbitMQ management UI. */
  connectionName: string;
  logger: BrokerLogger;
  /** Reconnect backoff bounds (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How long one attempt may take from TCP connect to an open publish
   * channel, AMQP handshake included (default 10 s). A listener that accepts
   * and never speaks AMQP would otherwise hold the attempt forever.
   */
  connectTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** What readiness and the admin page show. */
export interface BrokerState {
  status: 'connecting' | 'connected' | 'closed';
  /** Failed attempts since the last successful connect. */
  attempts: number;
  /** Why the last attempt failed (kept after a connect, for the record). */
  lastError: string | null;
  /** When `status` last changed (epoch ms). */
  since: number;
  /** The node connected to, or being tried: `host:port`, never the credentials. */
  node: string;
}

export class BrokerConnectTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`broker handshake timed out after ${timeoutMs} ms`);
  }
}

type SetupHook = () => Promise<void>;

/**
 * One AMQP connection that heals itself: on close it reconnects with
 * backoff, recreates its confirm channel and reruns every registered setup
 * hook (consumers re-subscribe there). `noDelay` is essential: without it
 * every hop stalls ~22 ms on Nagle + delayed ACK.
 */
export class BrokerConnection extends EventEmitter {
  private model: ChannelModel | null = null;
  private confirm: ConfirmChannel | null = null;
  private hooks = new Set<SetupHook>();
  private closing = false;
  private connecting: Promise<void> | null = null;
  private backoff: number;
  private readonly nodes: BrokerNodes;
  private current: BrokerState;
  /** Aborts the attempt in progress (its socket) when close() is called. */
  private attempt: AbortController | null = null;
  private renewing = false;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: BrokerOptions) {
    super();
    this.setMaxListeners(0);
    this.backoff = opts.minBackoffMs ?? 200;
    this.nodes = new BrokerNodes(opts.url);
    this.current = { status: 'connecting', attempts: 0, lastError: null, since: Date.now(), node: this.nodes.label };
  }

  get ready(): boolean {
    return this.model !== null && this.confirm !== null;
  }

  /** Connected means the setup hooks ran too (consumers subscribed); emits 'state' on every change. */
  get state(): Readonly<BrokerState> {
    return this.current;
  }

  /** For /readyz: true when connected, otherwise what is wrong ("connecting: broker handshake timed out after 10000 ms (attempt 3)"). */
  readiness(): true | string {
    const s = this.current;
    if (s.status === 'connected') return true;
    if (s.status === 'closed') return 'closed';
    return s.lastError ? `connecting: ${s.lastError} (attempt ${s.attempts + 1})` : 'connecting';
  }

  private setState(patch: Partial<BrokerState>): void {
    const status = patch.status ?? this.current.status;
    this.current = { ...this.current, ...patch, since: status !== this.current.status ? Date.now() : this.current.since };
    this.emit('state', this.current);
  }

  get logger(): BrokerLogger {
    return this.opts.logger;
  }

  /** Connects (retrying until it succeeds or `close()` is called). */
  start(): Promise<void> {
    if (!this.connecting) this.connecting = this.connectLoop();
    return this.connecting;
  }

  /** Registers a hook run now (if connected) and after every reconnect. */
  async onReady(hook: SetupHook): Promise<void> {
    this.hooks.add(hook);
    if (this.ready) await hook();
  }

  offReady(hook: SetupHook): void {
    this.hooks.delete(hook);
  }

  /** Resolves when connected; rejects after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(new Error('broker not reachable'));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('ready', onReady);
    });
  }

  confirmChannel(): ConfirmChannel | null {
    return this.confirm;
  }

  /**
   * The broker refused a message on this publish channel (basic.nack):
   * publish on a new channel from now on. Seen on RabbitMQ 3.10 after a
   * cluster node went away: a channel's publishes to a quorum queue whose
   * leader had moved were nacked for minutes, each retry again, while the
   * queue itself took messages. A new channel finds the queue's current
   * leader. The new channel is opened before the old one closes (its
   * unconfirmed publishes fail there and are retried by their callers).
   */
  async renewConfirmChannel(refused: ConfirmChannel): Promise<void> {
    const model = this.model;
    if (this.confirm !== refused || !model || this.renewing) return;
    this.renewing = true;
    this.opts.logger.warn({ node: this.nodes.label, connection: this.opts.connectionName }, 'broker refused a message; publishing on a new channel');
    try {
      await this.openConfirmChannel(model);
    } catch (err) {
      this.opts.logger.warn({ err: String(err) }, 'opening a new publish channel failed');
      return;
    } finally {
      this.renewing = false;
    }
    await refused.close().catch(() => undefined);
  }

  async createChannel(): Promise<Channel> {
    if (!this.model) throw new Error('broker not connected');
    return this.model.createChannel();
  }

  async createConfirmChannel(): Promise<ConfirmChannel> {
    if (!this.model) throw new Error('broker not connected');
    return this.model.createConfirmChannel();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.attempt?.abort();
    this.wake?.();
    this.setState({ status: 'closed' });
    const m = this.model;
    this.model = null;
    this.confirm = null;
    if (m) await m.close().catch(() => undefined);
  }

  private async connectLoop(): Promise<void> {
    while (!this.closing) {
      try {
        await this.connectOnce();
        return;
      } catch (err) {
        if (this.closing) return;
        const message = err instanceof Error ? err.message : String(err);
        const attempts = this.current.attempts + 1;
        const failedNode = this.nodes.label;
        // The next attempt goes to the next node of the list (the same one when there is one).
        this.nodes.advance();
        this.setState({ status: 'connecting', attempts, lastError: message, node: this.nodes.label });
        this.opts.logger.warn(
          { err: message, attempt: attempts, retryInMs: this.backoff, connection: this.opts.connectionName, node: failedNode },
          `${err instanceof BrokerConnectTimeoutError ? message : `broker connect failed: ${message}`}; retrying in ${this.backoff} ms`,
        );
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.backoff);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
        this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
      }
    }
  }

  /**
   * One attempt, bounded as a whole: amqplib's own `timeout` is a socket
   * idle timer (a broker that trickles bytes never trips it), so a timer of
   * ours covers TCP connect, the AMQP handshake and the publish channel, and
   * on expiry aborts the socket (net.Socket's `signal`) so no half-open
   * connection is left behind.
   */
  private async connectOnce(): Promise<void> {
    const timeoutMs = this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const abort = new AbortController();
    this.attempt = abort;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new BrokerConnectTimeoutError(timeoutMs));
      }, timeoutMs);
    });
    const opening = (async () => {
      const model = await amqp.connect(this.nodes.current, {
        noDelay: true,
        signal: abort.signal,
        clientProperties: { connection_name: this.opts.connectionName },
      });
      if (abort.signal.aborted) {
        await model.close().catch(() => undefined);
        throw new Error('connect aborted');
      }
      return model;
    })();
    let model: ChannelModel;
    try {
      model = await Promise.race([opening, expired]);
    } catch (err) {
      opening.catch(() => undefined); // the late loser of the race
      throw err;
    } finally {
      clearTimeout(timer);
      if (this.attempt === abort) this.attempt = null;
    }
    coalesceWrites((model.connection as unknown as { stream: Socket }).stream);
    model.on('error', (err) => this.opts.logger.warn({ err: String(err) }, 'broker connection error'));
    model.on('close', () => this.handleClose(model));
    this.model = model;
    try {
      await withTimeout(this.openConfirmChannel(model), timeoutMs, () => new BrokerConnectTimeoutError(timeoutMs));
    } catch (err) {
      // The connection answered the handshake but not the channel: drop it and start over.
      this.model = null;
      await model.close().catch(() => undefined);
      throw err;
    }
    try {
      for (const hook of this.hooks) await hook();
    } catch (err) {
      // A setup hook failed (e.g. the topology): start over on a new connection rather than keep a half set-up one.
      this.model = null;
      this.confirm = null;
      await model.close().catch(() => undefined);
      throw err;
    }
    if (this.closing) {
      // close() ran while the hooks did: it found no model to close, so close this one.
      await model.close().catch(() => undefined);
      return;
    }
    this.backoff = this.opts.minBackoffMs ?? 200;
    this.setState({ status: 'connected', attempts: 0, node: this.nodes.label });
    this.opts.logger.info({ connection: this.opts.connectionName, node: this.nodes.label }, `broker connected to ${this.nodes.label}`);
    this.emit('ready');
  }

  private async openConfirmChannel(model: ChannelModel): Promise<void> {
    const ch = await model.createConfirmChannel();
    ch.on('error', (err) => this.opts.logger.warn({ err: String(err) }, 'publish channel error'));
    ch.on('close', () => {
      if (this.confirm !== ch) return;
      this.confirm = null;
      // A channel error (not a connection loss): reopen the publish channel.
      if (this.model === model && !this.closing) {
        this.openConfirmChannel(model).catch((err) =>
          this.opts.logger.warn({ err: String(err) }, 'reopening publish channel failed'),
        );
      }
    });
    ch.on('return', (msg) => this.emit('return', msg));
    this.confirm = ch;
  }

  private handleClose(model: ChannelModel): void {
    if (this.model !== model) return;
    this.model = null;
    this.confirm = null;
    this.emit('down');
    if (this.closing) return;
    const lostNode = this.nodes.label;
    // Its node may be the one that went away: the first attempt goes to the next node of the list.
    this.nodes.advance();
    this.setState({ status: 'connecting', lastError: 'connection lost', node: this.nodes.label });
    this.opts.logger.warn({ node: lostNode, connection: this.opts.connectionName }, `broker connection lost (${lostNode}); reconnecting`);
    this.connecting = this.connectLoop();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(error()), ms)))]).finally(() => clearTimeout(t));
}
