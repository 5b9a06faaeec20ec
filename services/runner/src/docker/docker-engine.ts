import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { parseDockerHost } from '../config.js';
import type { ContainerSpec } from './container-spec.js';
import { StreamDemux } from './stream-demux.js';

/**
 * The only file that imports dockerode. Every call names its step in the
 * error it throws (`docker create: ...`), so a log line says what failed
 * without a stack trace.
 */
export class DockerStepError extends Error {
  readonly code = 'KB_ERR_DOCKER';
  /** The engine is away (socket refused, timed out): readiness and backoff, not the tenant's fault. */
  readonly engineDown: boolean;
  readonly statusCode: number | undefined;
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    const c = cause as { message?: string; code?: string; statusCode?: number };
    super(`docker ${step}: ${c?.message ?? String(cause)}`);
    this.engineDown = c?.code === 'ECONNREFUSED' || c?.code === 'ENOENT' || c?.code === 'ETIMEDOUT' || c?.code === 'EPIPE';
    this.statusCode = c?.statusCode;
  }
}

/** The container's stdio, attached before start so the ready frame is never missed. */
export interface AttachedStdio {
  /** Writes go to the container's stdin (the hijacked socket carries stdin unframed). */
  write(data: Buffer): boolean;
  onStdout(cb: (chunk: Buffer) => void): void;
  onStderr(cb: (chunk: Buffer) => void): void;
  /** Called once when the stream ends (the container's stdout closed or the socket broke). */
  onEnd(cb: () => void): void;
  close(): void;
}

export interface ContainerState {
  running: boolean;
  oomKilled: boolean;
  exitCode: number | null;
}

export interface LabelledContainer {
  id: string;
  labels: Record<string, string>;
  createdMs: number;
  state: string;
}

export interface StatsSample {
  cpuNs: number | null;
  peakMemoryBytes: number | null;
}

export class DockerEngine {
  private readonly docker: Docker;

  constructor(dockerHost: string) {
    this.docker = new Docker(parseDockerHost(dockerHost));
  }

  async ping(): Promise<boolean> {
    await step('ping', () => this.docker.ping());
    return true;
  }

  async imageExists(image: string): Promise<boolean> {
    return (await this.imageLabels(image)) !== null;
  }

  /** The image's labels ({} when it has none), or null when there is no such image. */
  async imageLabels(image: string): Promise<Record<string, string> | null> {
    try {
      const info = await this.docker.getImage(image).inspect();
      return (info.Config?.Labels as Record<string, string> | null | undefined) ?? {};
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw new DockerStepError('image inspect', err);
    }
  }

  async create(spec: ContainerSpec): Promise<string> {
    const c = await step('create', () => this.docker.createContainer(spec as unknown as Docker.ContainerCreateOptions));
    return c.id;
  }

  async attach(id: string): Promise<AttachedStdio> {
    const raw = await step('attach', () =>
      this.docker.getContainer(id).attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }),
    );
    const sock = raw as unknown as Duplex;
    let out: (c: Buffer) => void = () => undefined;
    let err: (c: Buffer) => void = () => undefined;
    const demux = new StreamDemux(
      (c) => out(c),
      (c) => err(c),
    );
    let ended = false;
    let endCb: () => void = () => undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      endCb();
    };
    sock.on('data', (chunk: Buffer) => demux.push(chunk));
    sock.on('end', end);
    sock.on('close', end);
    // A broken socket is the end of the channel; the caller inspects the container to learn why.
    sock.on('error', end);
    return {
      write: (data) => sock.write(data),
      onStdout: (cb) => (out = cb),
      onStderr: (cb) => (err = cb),
      onEnd: (cb) => {
        endCb = cb;
        if (ended) cb();
      },
      close: () => sock.destroy(),
    };
  }

  async start(id: string): Promise<void> {
    await step('start', () => this.docker.getContainer(id).start());
  }

  /** SIGKILL; a container that already stopped is not an error. */
  async kill(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal: 'SIGKILL' });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 409 || status === 404) return;
      throw new DockerStepError('kill', err);
    }
  }

  /** Waits until the container stopped (after a kill or its own exit). */
  async wait(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).wait();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw new DockerStepError('wait', err);
    }
  }

  async inspect(id: string): Promise<ContainerState | null> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      return { running: info.State.Running, oomKilled: info.State.OOMKilled, exitCode: info.State.Running ? null : info.State.ExitCode };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw new DockerStepError('inspect', err);
    }
  }

  /** Force-removes (kills first when running); a container already gone is not an error. */
  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return;
      // 409 "removal already in progress": someone (the reaper, a parallel remove) has it.
      if (status === 409) return;
      throw new DockerStepError('remove', err);
    }
  }

  /** Containers (running or not) carrying every label given (`key=value` or just `key`). */
  async listByLabels(labels: string[]): Promise<LabelledContainer[]> {
    const list = await step('list', () => this.docker.listContainers({ all: true, filters: { label: labels } }));
    return list.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, createdMs: c.Created * 1000, state: c.State }));
  }

  /** One-shot stats (fallback when the cgroup files are not readable from here). */
  async stats(id: string): Promise<StatsSample> {
    const s = await step('stats', () => this.docker.getContainer(id).stats({ stream: false, 'one-shot': true }));
    const mem = s.memory_stats as { max_usage?: number; usage?: number } | undefined;
    return {
      cpuNs: s.cpu_stats?.cpu_usage?.total_usage ?? null,
      peakMemoryBytes: mem?.max_usage ?? mem?.usage ?? null,
    };
  }
}

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new DockerStepError(name, err);
  }
}
