import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type ServiceName = 'api' | 'gateway' | 'dispatcher' | 'runner';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

export interface PlatformPorts {
  api: number;
  bridge: number;
  gatewayHttp: number;
  dispatcherHttp: number;
  runnerHttp: number;
}

/**
 * The platform's services as real child processes (as `npm start` runs
 * them), for chaos tests and the bench: each can be killed with SIGKILL and
 * started again.
 */
export class Platform {
  private readonly procs = new Map<ServiceName, ChildProcess>();
  readonly logs = new Map<ServiceName, string[]>();

  private constructor(
    readonly env: Record<string, string>,
    readonly ports: PlatformPorts,
  ) {}

  static async create(baseEnv: Record<string, string>): Promise<Platform> {
    const ports = { api: await freePort(), bridge: await freePort(), gatewayHttp: await freePort(), dispatcherHttp: await freePort(), runnerHttp: await freePort() };
    const env = {
      ...baseEnv,
      API_PORT: String(ports.api),
      API_HOST: '127.0.0.1',
      BRIDGE_PORT: String(ports.bridge),
      BRIDGE_HOST: '127.0.0.1',
      GATEWAY_HTTP_PORT: String(ports.gatewayHttp),
      DISPATCHER_HTTP_PORT: String(ports.dispatcherHttp),
      RUNNER_HTTP_PORT: String(ports.runnerHttp),
      RUNNER_HTTP_HOST: '127.0.0.1',
    };
    return new Platform(env, ports);
  }

  /** The running child's process id (the bench reads its CPU time from /proc). */
  pid(name: ServiceName): number | undefined {
    return this.procs.get(name)?.pid;
  }

  healthPort(name: ServiceName): number {
    const ports: Record<ServiceName, number> = {
      api: this.ports.api,
      gateway: this.ports.gatewayHttp,
      dispatcher: this.ports.dispatcherHttp,
      runner: this.ports.runnerHttp,
    };
    return ports[name];
  }

  /** Extra node flags per service (the bench passes `--cpu-prof`, which NODE_OPTIONS refuses). */
  readonly nodeArgs: Partial<Record<ServiceName, string[]>> = {};

  /** Starts a service and resolves once its /readyz answers 200 (`until: 'healthy'`: once /healthz does, ready or not). */
  async start(name: ServiceName, extraEnv: Record<string, string> = {}, opts: { until?: 'ready' | 'healthy' } = {}): Promise<void> {
    if (this.procs.has(name)) throw new Error(`${name} already running`);
    const child = spawn(process.execPath, [...(this.nodeArgs[name] ?? []), '--import', 'tsx', `services/${name}/src/main.ts`], {
      cwd: root,
      env: { ...process.env, ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = this.logs.get(name) ?? [];
    this.logs.set(name, lines);
    const keep = (b: Buffer) => {
      lines.push(...b.toString('utf8').split('\n').filter(Boolean));
      if (lines.length > 2000) lines.splice(0, lines.length - 2000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.procs.set(name, child);
    child.once('exit', () => {
      if (this.procs.get(name) === child) this.procs.delete(name);
    });
    await waitFor(
      async () => {
        if (!this.procs.has(name)) throw new Error(`${name} exited: ${lines.slice(-20).join('\n')}`);
        const r = await fetch(`http://127.0.0.1:${this.healthPort(name)}/${opts.until === 'healthy' ? 'healthz' : 'readyz'}`).catch(() => null);
        return r?.status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `${name} ${opts.until ?? 'ready'}` },
    );
  }

  /** api, dispatcher, gateway (the runner only when asked: it needs Docker and the sandbox image). */
  async startAll(opts: { runner?: boolean } = {}): Promise<void> {
    if (opts.runner) await this.start('runner');
    await this.start('api');
    await this.start('dispatcher');
    await this.start('gateway');
  }

  /** kill -9, and wait until the process is gone. */
  async kill(name: ServiceName): Promise<void> {
    const child = this.procs.get(name);
    if (!child) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  async stop(name: ServiceName): Promise<void> {
    const child = this.procs.get(name);
    if (!child) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((n) => this.stop(n)));
  }
}
