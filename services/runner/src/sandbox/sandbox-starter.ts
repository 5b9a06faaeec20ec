import type { Logger } from 'pino';
import type { PoolProfile } from '../config.js';
import { containerSpec, type ContainerRole, type SandboxLimits } from '../docker/container-spec.js';
import type { DockerEngine } from '../docker/docker-engine.js';
import { RuntimeChannel, type Frame } from './runtime-channel.js';
import { DATA_SOCKET, EGRESS_SOCKET, HOME_MOUNT, RUNTIME_SOCKET, type SandboxHome, type SandboxHomes } from './sandbox-home.js';
import { RuntimeSocket } from './socket-channel.js';
import { EgressProxy } from '../egress/connect-proxy.js';
import { ContainerEgress, type EgressPolicies } from '../egress/container-egress.js';
import { DataSocket } from '../store/data-socket.js';
import { StoreGrants } from '../store/store-grants.js';
import type { DataRequests } from '../store/data-requests.js';

/** A started container whose interpreter said it is ready. */
export interface Sandbox {
  id: string;
  profile: PoolProfile;
  channel: RuntimeChannel;
  ready: Frame;
  startedMs: number;
  /** Whose egress its proxy serves (assigned per call; nobody's until then). */
  egress: ContainerEgress;
  /** Which calls may use the store over its data socket (opened per call; none until then). */
  store: StoreGrants;
  /**
   * The one way a sandbox goes: channel closed, container removed (a
   * failure is logged), its egress proxy and store socket stopped and its home removed.
   * Never throws. Callers inspect the container (OOMKilled) before.
   */
  destroy(): Promise<void>;
}

/**
 * How the runner talks to the runtime (sandbox-image/README.md, "Transport:
 * stdio vs unix socket"): `unix` for dedicated containers (thousands of
 * calls each: no dockerd relay per frame), attached stdio for one-call
 * containers (pool, ephemeral, lint), which need no socket to be ready.
 */
export type Transport = 'stdio' | 'unix';

export interface StarterOptions {
  image: string;
  runnerId: string;
  instance: number;
  prefix: string;
  limits: SandboxLimits;
  homes: SandboxHomes;
  policies: EgressPolicies;
  /** Transport of dedicated containers (`RUNNER_DEDICATED_TRANSPORT`). */
  dedicatedTransport: Transport;
  /** The store's and the tables' request handling, shared by every container's data socket. */
  store: DataRequests;
  /** Store calls one run may make (`RUNNER_STORE_CALLS_MAX`). */
  storeCallsPerRun: number;
}

/** Interpreter start is ~30 ms; container create + start ~200-300 ms; a loaded machine gets this long. */
const READY_TIMEOUT_MS = 20_000;

/**
 * Creates, attaches (before start, so the ready frame cannot be missed),
 * starts a sandbox container and waits for the runtime's ready frame. On
 * any failure the container is removed: nothing half-started stays behind.
 */
export class SandboxStarter {
  constructor(
    private readonly engine: DockerEngine,
    private readonly opts: StarterOptions,
    private readonly logger: Logger,
  ) {}

  async start(profile: PoolProfile, role: ContainerRole, tenantId?: string): Promise<Sandbox> {
    const started = Date.now();
    const unix = role === 'dedicated' && this.opts.dedicatedTransport === 'unix';
    // Every container gets a home with an egress proxy: a plan without egress gets a clear refusal, not a dead network.
    const home = await this.opts.homes.create();
    const egress = new ContainerEgress(this.opts.policies);
    const proxy = new EgressProxy({ socketPath: home.path(EGRESS_SOCKET), policy: () => egress.grant(), logger: this.logger });
    // Every container gets the store's socket too: a call admits its requests, nothing else does (StoreGrants).
    const store = new StoreGrants(this.opts.storeCallsPerRun);
    let id: string | null = null;
    const data = new DataSocket({ socketPath: home.path(DATA_SOCKET), grants: store, requests: this.opts.store, logger: this.logger, describe: () => ({ containerId: id?.slice(0, 12), role, tenantId: store.tenant }) });
    const sockets = { proxy, data };
    let listening: RuntimeSocket | null = null;
    let channel: RuntimeChannel | null = null;
    try {
      await proxy.listen();
      await data.listen();
      if (unix) listening = await RuntimeSocket.listen(home);
      const { image, runnerId, instance, prefix, limits } = this.opts;
      const env = [`KB_EGRESS_SOCKET=${HOME_MOUNT}/${EGRESS_SOCKET}`, `KB_DATA_SOCKET=${HOME_MOUNT}/${DATA_SOCKET}`, ...(listening ? [`KB_RUNTIME_SOCKET=${HOME_MOUNT}/${RUNTIME_SOCKET}`] : [])];
      id = await this.engine.create(containerSpec({ image, runnerId, instance, prefix, limits, role, profile, tenantId, home: { bind: home.bind, env } }));
      const attached = await this.engine.attach(id);
      // Over stdio the channel must listen before the start: a ready frame written before it would be lost.
      if (!listening) channel = new RuntimeChannel(attached);
      await this.engine.start(id);
      // Over the socket nothing is read before the channel listens (an accepted socket waits for its reader).
      const ch = (channel ??= new RuntimeChannel(await withTimeout(listening!.channel(attached), READY_TIMEOUT_MS, 'the sandbox runtime did not connect')));
      const ready = await withTimeout(ch.ready(), READY_TIMEOUT_MS, 'no ready frame from the sandbox runtime');
      const containerId = id;
      const destroy = async () => {
        ch.close();
        await this.engine.remove(containerId).catch((err) => this.logger.warn({ containerId: containerId.slice(0, 12), role, err: String(err) }, 'sandbox removal failed'));
        await releaseHome(sockets, home);
      };
      return { id, profile, channel: ch, ready, startedMs: Date.now() - started, egress, store, destroy };
    } catch (err) {
      this.logger.warn({ containerId: id?.slice(0, 12), err: String(err), stderr: channel?.stderr || undefined }, 'sandbox start failed');
      channel?.close();
      listening?.close();
      if (id) await this.engine.remove(id).catch(() => undefined);
      await releaseHome(sockets, home);
      throw err;
    }
  }
}

async function releaseHome(sockets: { proxy: EgressProxy; data: DataSocket }, home: SandboxHome): Promise<void> {
  await sockets.proxy.close().catch(() => undefined);
  await sockets.data.close().catch(() => undefined);
  await home.remove();
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(what)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}
