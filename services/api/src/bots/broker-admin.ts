import { execFile } from 'node:child_process';

/**
 * How the API manages bot-server RabbitMQ users (broker-user-service.ts):
 * with `rabbitmqctl` on the broker's own host (`npm start`, one machine), or
 * through the management plugin's HTTP API (`RABBITMQ_MANAGEMENT_URL`:
 * compose, Kubernetes, a managed broker), where the API runs in a container
 * that has no `rabbitmqctl` and could not reach the node's Erlang
 * distribution port anyway. Both answer the same three questions, so the
 * service above never knows which one it holds.
 */
export interface BrokerAdmin {
  /** `rabbitmqctl` or `management API at host:port` (never a password): for logs and errors. */
  readonly describe: string;
  /** Creates the user or, when it exists, sets its password (no tags: it cannot log in to the management UI). */
  putUser(username: string, password: string): Promise<void>;
  /** Its permissions on vhost `/` (RabbitMQ regexes). */
  setPermissions(username: string, configure: string, write: string, read: string): Promise<void>;
  /** `absent` when there was no such user; `unmanaged` when no rabbitmqctl is installed here. */
  deleteUser(username: string): Promise<RemoveOutcome>;
}

/** What deleting a user did: `unmanaged` when this admin cannot act here at all (then no user was made from here either). */
export type RemoveOutcome = 'removed' | 'absent' | 'unmanaged';

/** A step the broker refused or could not be asked; `detail` is safe to show (no password). */
export class BrokerAdminError extends Error {
  constructor(
    readonly op: string,
    readonly detail: string,
  ) {
    super(`${op} failed: ${detail}`);
  }
}

/** Picks the admin: the management API when its URL is set, else `rabbitmqctl` (RABBITMQCTL names the command). */
export function brokerAdminFrom(env: { managementUrl: string | null; rabbitmqctl: string }): BrokerAdmin {
  return env.managementUrl ? new ManagementApiAdmin(env.managementUrl) : new RabbitmqctlAdmin(env.rabbitmqctl);
}

/** One `rabbitmqctl` step of a bot server user's life. */
export type CtlStep =
  | { op: 'add_user' | 'change_password'; username: string; password: string }
  | { op: 'set_permissions'; username: string; configure: string; write: string; read: string }
  | { op: 'delete_user'; username: string };

/**
 * The argv and standard input of a step. A password never goes in argv:
 * every local user reads argv in `ps` and /proc/<pid>/cmdline (rabbitmqctl's
 * wrapper scripts pass it down to `su`, `erl` and `beam.smp`, each listing it).
 * `rabbitmqctl add_user <name>` and `change_password <name>` read the
 * password from standard input when the argument is left out: RabbitMQ's
 * own answer to process-list eavesdropping (rabbitmq-cli issue #365; checked
 * here on 3.10.8), as `chpasswd` keeps passwords off the command line.
 */
export function rabbitmqctlCommand(step: CtlStep): { args: string[]; stdin: string } {
  switch (step.op) {
    case 'add_user':
    case 'change_password':
      return { args: ['-q', step.op, step.username], stdin: `${step.password}\n` };
    case 'set_permissions':
      return { args: ['-q', 'set_permissions', '-p', '/', step.username, step.configure, step.write, step.read], stdin: '' };
    case 'delete_user':
      return { args: ['-q', 'delete_user', step.username], stdin: '' };
  }
}

class CtlFailure extends BrokerAdminError {
  constructor(
    op: string,
    detail: string,
    readonly missing: boolean,
  ) {
    super(`rabbitmqctl ${op}`, detail);
  }
}

/** `rabbitmqctl` on this host: the broker must be the local node (or RABBITMQCTL a wrapper reaching it). */
export class RabbitmqctlAdmin implements BrokerAdmin {
  readonly describe = 'rabbitmqctl';

  constructor(private readonly command = 'rabbitmqctl') {}

  async putUser(username: string, password: string): Promise<void> {
    try {
      await this.ctl({ op: 'add_user', username, password });
    } catch (err) {
      if (!(err instanceof CtlFailure) || !/already exists|user_already_exists/i.test(err.detail)) throw err;
      await this.ctl({ op: 'change_password', username, password });
    }
  }

  async setPermissions(username: string, configure: string, write: string, read: string): Promise<void> {
    await this.ctl({ op: 'set_permissions', username, configure, write, read });
  }

  async deleteUser(username: string): Promise<RemoveOutcome> {
    try {
      await this.ctl({ op: 'delete_user', username });
      return 'removed';
    } catch (err) {
      if (err instanceof CtlFailure && err.missing) return 'unmanaged';
      if (err instanceof CtlFailure && /does not exist|no_such_user/i.test(err.detail)) return 'absent';
      throw err;
    }
  }

  private ctl(step: CtlStep): Promise<string> {
    const { args, stdin } = rabbitmqctlCommand(step);
    return new Promise((resolve, reject) => {
      const child = execFile(this.command, args, { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          reject(new CtlFailure(step.op, String(stderr || err.message).trim().slice(0, 300), missing));
          return;
        }
        resolve(stdout);
      });
      // A command that reads nothing gets end-of-file at once; one that exits early must not crash us with EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(stdin);
    });
  }
}

const HTTP_TIMEOUT_MS = 15_000;

/**
 * The management plugin's HTTP API (`http(s)://admin:password@host:15672`,
 * a user tagged `administrator`). PUT on a user creates it or replaces its
 * password, so a rotation is one request like a creation; DELETE of a user
 * that is not there answers 404. The URL's credentials go in the
 * Authorization header and never into a log line or an error.
 */
export class ManagementApiAdmin implements BrokerAdmin {
  readonly describe: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly authorization: string;

  constructor(url: string) {
    const m = parseManagementUrl(url);
    this.origin = m.origin;
    this.basePath = m.basePath;
    this.authorization = m.authorization;
    this.describe = `management API at ${m.host}`;
  }

  async putUser(username: string, password: string): Promise<void> {
    await this.send('put user', 'PUT', `/api/users/${enc(username)}`, { password, tags: '' });
  }

  async setPermissions(username: string, configure: string, write: string, read: string): Promise<void> {
    await this.send('set permissions', 'PUT', `/api/permissions/${enc('/')}/${enc(username)}`, { configure, write, read });
  }

  async deleteUser(username: string): Promise<RemoveOutcome> {
    const status = await this.send('delete user', 'DELETE', `/api/users/${enc(username)}`, undefined, [404]);
    return status === 404 ? 'absent' : 'removed';
  }

  private async send(op: string, method: string, path: string, body: unknown, alsoFine: number[] = []): Promise<number> {
    let res: Response;
    try {
      res = await fetch(`${this.origin}${this.basePath}${path}`, {
        method,
        headers: { authorization: this.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, ...) is its cause.
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer in ${HTTP_TIMEOUT_MS} ms` : [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
      throw new BrokerAdminError(`${this.describe}: ${op}`, why);
    }
    const text = await res.text().catch(() => '');
    if (res.ok || alsoFine.includes(res.status)) return res.status;
    throw new BrokerAdminError(`${this.describe}: ${op}`, `HTTP ${res.status} ${text.slice(0, 200)}`.trim());
  }
}

const enc = (s: string) => encodeURIComponent(s);

/**
 * RABBITMQ_MANAGEMENT_URL taken apart: the credentials become the Authorization header, the path
 * (a proxy may mount the API at /rabbitmq) loses its trailing slash. Endpoints are then
 * `origin + basePath + /api/...`, never `new URL('/' + path, base)`: a path starting `//` is a
 * protocol-relative URL naming another host (`//api/users` is the host `api`, which in compose is
 * our own API container).
 */
export function parseManagementUrl(url: string): { origin: string; basePath: string; host: string; authorization: string } {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('RABBITMQ_MANAGEMENT_URL must be http:// or https://');
  return {
    origin: u.origin,
    basePath: u.pathname.replace(/\/+$/, ''),
    host: u.host,
    authorization: `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`,
  };
}
