import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { coalesceWrites } from './net/coalesce-writes.js';

export interface BrokerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface BrokerOptions {
  url: string;
  /** Shown in the RabbitMQ management UI. */
  connectionName: string;
  logger: BrokerLogger;
  /** Reconnect backoff bounds (ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
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

  constructor(private readonly opts: BrokerOptions) {
    super();
    this.setMaxListeners(0);
    this.backoff = opts.minBackoffMs ?? 200;
  }

  get ready(): boolean {
    return this.model !== null && this.confirm !== null;
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
    const m = this.model;
    this.model = null;
    this.confirm = null;
    if (m) await m.close().catch(() => undefined);
  }

  private async connectLoop(): Promise<void> {
    while (!this.closing) {
      try {
        await this.connectOnce();
        this.backoff = this.opts.minBackoffMs ?? 200;
        return;
      } catch (err) {
        this.opts.logger.warn({ err: String(err), retryInMs: this.backoff }, 'broker connect failed');
        await new Promise((r) => setTimeout(r, this.backoff));
        this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const model = await amqp.connect(this.opts.url, {
      noDelay: true,
      clientProperties: { connection_name: this.opts.connectionName },
    });
    coalesceWrites((model.connection as unknown as { stream: Socket }).stream);
    model.on('error', (err) => this.opts.logger.warn({ err: String(err) }, 'broker connection error'));
    model.on('close', () => this.handleClose(model));
    this.model = model;
    await this.openConfirmChannel(model);
    for (const hook of this.hooks) await hook();
    this.opts.logger.info({ connection: this.opts.connectionName }, 'broker connected');
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
    this.opts.logger.warn({}, 'broker connection lost; reconnecting');
    this.connecting = this.connectLoop();
  }
}
