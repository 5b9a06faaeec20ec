import type { Logger } from 'pino';
import type { PoolProfile } from '../config.js';
import { containerSpec, type ContainerRole, type SandboxLimits } from '../docker/container-spec.js';
import type { DockerEngine } from '../docker/docker-engine.js';
import { RuntimeChannel, type Frame } from './runtime-channel.js';

/** A started container whose interpreter said it is ready. */
export interface Sandbox {
  id: string;
  profile: PoolProfile;
  channel: RuntimeChannel;
  ready: Frame;
  startedMs: number;
}

export interface StarterOptions {
  image: string;
  runnerId: string;
  instance: number;
  prefix: string;
  limits: SandboxLimits;
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
    const id = await this.engine.create(containerSpec({ ...this.opts, image: this.opts.image, role, profile, tenantId }));
    let channel: RuntimeChannel | null = null;
    try {
      channel = new RuntimeChannel(await this.engine.attach(id));
      await this.engine.start(id);
      const ready = await withTimeout(channel.ready(), READY_TIMEOUT_MS, 'no ready frame from the sandbox runtime');
      return { id, profile, channel, ready, startedMs: Date.now() - started };
    } catch (err) {
      this.logger.warn({ containerId: id.slice(0, 12), err: String(err), stderr: channel?.stderr || undefined }, 'sandbox start failed');
      channel?.close();
      await this.engine.remove(id).catch(() => undefined);
      throw err;
    }
  }
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
