import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '@domaeka/core';
import type { EgressDecision, EgressPolicy } from '@domaeka/calls';
import { listenInHome } from '../sandbox/sandbox-home.js';
import { forwardRequest } from './http-forward.js';
import { endSocket, replies, sendReply, type ProxyReply } from './proxy-replies.js';
import { parseAbsoluteTarget, parseConnectTarget } from './proxy-target.js';
import { connectPinned, type PinnedTarget } from './upstream.js';

/** Who may go where through one container's proxy; looked up at each request (a pooled container gets its tenant late). */
export interface EgressGrant {
  tenantId: string;
  policy: EgressPolicy;
}

export interface EgressDecisionEvent {
  kind: 'connect' | 'http';
  tenantId: string | null;
  host: string;
  port: number;
  allowed: boolean;
  /** Why it was refused (English, from EgressPolicy). */
  reason?: string;
  /** The pinned address connected to, when allowed. */
  address?: string;
}

export interface EgressProxyOptions {
  socketPath: string;
  /** null = this container has no egress: everything is refused. */
  policy: () => EgressGrant | null | Promise<EgressGrant | null>;
  logger: Logger;
  onDecision?: (event: EgressDecisionEvent) => void;
  /** Tunnels and forwarded requests open at once (default 32). */
  maxTunnels?: number;
  /** A tunnel with no byte either way for this long is closed (default 60 s). */
  idleMs?: number;
  /** A client must send its whole request head within this (default 10 s). */
  headTimeoutMs?: number;
  /** DNS resolution, then TCP connect, each within this (default 10 s). */
  connectTimeoutMs?: number;
}

const MAX_HEAD_BYTES = 16 * 1024;

type Checked = { ok: true; target: PinnedTarget } | { ok: false; reply: ProxyReply };

/**
 * The runner's egress proxy for one sandbox container (DESIGN.md section 5,
 * "Egress"): an HTTP proxy on a unix socket mounted into that container
 * only, so whoever connects is that container. CONNECT tunnels (https) and
 * absolute-form plain HTTP are checked by the tenant's EgressPolicy and sent
 * to the address it pinned; everything else is answered with a reason.
 * Nothing a client sends can throw out of a handler.
 */
export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly busy = new WeakSet<Socket>();
  private readonly maxTunnels: number;
  private readonly idleMs: number;
  private readonly headTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private active = 0;
  private closed = false;

  constructor(private readonly opts: EgressProxyOptions) {
    this.maxTunnels = opts.maxTunnels ?? 32;
    this.idleMs = opts.idleMs ?? 60_000;
    this.headTimeoutMs = opts.headTimeoutMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.server = http.createServer({
      maxHeaderSize: MAX_HEAD_BYTES,
      headersTimeout: this.headTimeoutMs,
      // Bodies may be long uploads; the idle timeout on the upstream socket covers a stalled one.
      requestTimeout: 0,
      // Node checks the head deadline on this period (30 s by default, longer than the deadline itself).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(this.headTimeoutMs / 4))),
    });
    // Idle keep-alive connections and clients that never send a head are bounded too.
    this.server.maxConnections = this.maxTunnels * 4;
    this.server.on('connection', (socket: Socket) => this.track(socket));
    this.server.on('request', (req, res) => this.guard(this.onRequest(req, res), () => res.destroy()));
    this.server.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      // The server stops handling this socket's errors once it is handed over.
      socket.on('error', () => socket.destroy());
      this.guard(this.onConnect(req, socket, head), () => socket.destroy());
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    this.server.on('error', (err) => opts.logger.error({ err, socketPath: opts.socketPath }, 'egress proxy server error'));
  }

  /** Creates the socket (replacing a stale one), world-connectable so the container's uid can use it. */
  async listen(): Promise<void> {
    await listenInHome(this.server, this.opts.socketPath);
  }

  /** Stops listening, ends every open connection and tunnel, removes the socket file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.server.listening) {
      const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
      await done;
    }
    await rm(this.opts.socketPath, { force: true });
  }

  private async onConnect(req: http.IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    const parsed = parseConnectTarget(req.url ?? '');
    if (!parsed) return endSocket(client, replies.badRequest('CONNECT needs host:port'));
    if (!this.takeSlot(client)) return endSocket(client, replies.busy(this.maxTunnels));
    const checked = await this.check('connect', parsed.host, parsed.port, (p) => p.checkHostPort(parsed.host, parsed.port));
    if (!checked.ok) return endSocket(client, checked.reply);
    if (client.destroyed) return;
    const up = await connectPinned(checked.target, this.connectTimeoutMs, (s) => this.track(s));
    if (!up.ok) return this.upstreamFailed(checked.target, up.reply, () => endSocket(client, up.reply));
    const upstream = up.socket;
    if (client.destroyed) return void upstream.destroy();

    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // Bytes the client sent right after the CONNECT head (a TLS ClientHello, often).
    if (head.length) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.setTimeout(this.idleMs, cut);
    upstream.setTimeout(this.idleMs, cut);
    client.once('close', () => upstream.destroy());
    // A clean end reaches the client through pipe (after the last bytes); only an error cuts it short.
    upstream.once('close', (hadError) => {
      if (hadError) client.destroy();
    });
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.busy.add(req.socket);
    res.once('close', () => this.busy.delete(req.socket));
    const parsed = parseAbsoluteTarget(req.url ?? '');
    if (!parsed.ok) return sendReply(res, replies.badRequest(parsed.reason));
    const url = parsed.url;
    if (!this.takeSlot(res)) return sendReply(res, replies.busy(this.maxTunnels));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 80);
    const checked = await this.check('http', host, port, (p) => p.checkUrl(url.href));
    if (!checked.ok) return sendReply(res, checked.reply);
    if (res.destroyed) return;
    const up = await connectPinned(checked.target, this.connectTimeoutMs, (s) => this.track(s));
    if (!up.ok) return this.upstreamFailed(checked.target, up.reply, () => sendReply(res, up.reply));
    if (res.destroyed) return void up.socket.destroy();
    forwardRequest(req, res, url, up.socket, this.idleMs);
  }

  /** The grant of this moment, the policy's decision (DNS bounded by the connect timeout), logged. */
  private async check(
    kind: EgressDecisionEvent['kind'],
    host: string,
    port: number,
    decide: (policy: EgressPolicy) => Promise<EgressDecision>,
  ): Promise<Checked> {
    let grant: EgressGrant | null = null;
    try {
      grant = await this.opts.policy();
    } catch (err) {
      this.opts.logger.error({ err, host, port }, 'egress grant lookup failed; refusing');
    }
    if (!grant) {
      const reply = replies.noGrant();
      this.report({ kind, tenantId: null, host, port, allowed: false, reason: reply.reason });
      return { ok: false, reply };
    }
    const decision = await withTimeout(decide(grant.policy), this.connectTimeoutMs);
    if (!decision) {
      const reply = replies.resolveTimeout(host, this.connectTimeoutMs);
      this.report({ kind, tenantId: grant.tenantId, host, port, allowed: false, reason: reply.reason });
      return { ok: false, reply };
    }
    if (!decision.ok) {
      this.report({ kind, tenantId: grant.tenantId, host, port, allowed: false, reason: decision.reason });
      return { ok: false, reply: decision.unresolved ? replies.unresolved(decision.reason) : replies.denied(decision.reason) };
    }
    const target: PinnedTarget = { host: decision.host, port: decision.port, address: decision.address, family: decision.family };
    this.report({ kind, tenantId: grant.tenantId, host: decision.host, port, allowed: true, address: decision.address });
    return { ok: true, target };
  }

  /** Logged: allowed by policy, but the target did not take the connection. */
  private upstreamFailed(target: PinnedTarget, reply: ProxyReply, answer: () => void): void {
    this.opts.logger.info(
      { host: target.host, port: target.port, address: target.address, status: reply.status, reason: reply.reason },
      'egress upstream failed',
    );
    answer();
  }

  /** Decisions are logged without headers or bodies: those carry tenants' API keys. */
  private report(event: EgressDecisionEvent): void {
    this.opts.logger.info(event, 'egress decision');
    try {
      this.opts.onDecision?.(event);
    } catch (err) {
      this.opts.logger.warn({ err }, 'egress onDecision callback threw');
    }
  }

  /** A slot for one tunnel or forwarded request, given back when its client side closes. */
  private takeSlot(owner: Socket | http.ServerResponse): boolean {
    if (this.active >= this.maxTunnels) return false;
    this.active++;
    owner.once('close', () => this.active--);
    return true;
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // A response already under way on this connection cannot be followed by a raw reply.
    if (err.code === 'ECONNRESET' || !socket.writable || this.busy.has(socket)) return void socket.destroy();
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return endSocket(socket, replies.headTimeout(this.headTimeoutMs));
    if (err.code === 'HPE_HEADER_OVERFLOW') return endSocket(socket, replies.badRequest(`request head over ${MAX_HEAD_BYTES} bytes`));
    endSocket(socket, replies.badRequest(`malformed request head (${err.code ?? 'parse error'})`));
  }

  private track(socket: Socket): void {
    if (this.closed) return void socket.destroy();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** A hostile or vanished client must never turn into an unhandled rejection in the runner. */
  private guard(work: Promise<void>, abort: () => void): void {
    work.catch((err: unknown) => {
      this.opts.logger.error({ err }, 'egress proxy handler failed');
      abort();
    });
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([work, expiry]);
  } finally {
    clearTimeout(timer);
  }
}
