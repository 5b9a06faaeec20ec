/**
 * The RabbitMQ nodes a connection may use. `AMQP_URL` holds one URL or a
 * comma-separated list of the nodes of one cluster
 * (`amqp://u:p@mq1:5672,amqp://u:p@mq2:5672`); a comma inside a password
 * is written `%2C`, as any reserved character of a URL. A connection
 * starts on the first node and moves to the next one (wrapping around)
 * after every failed attempt and every lost connection, so a node that went
 * away is not the one asked again at once. With one URL it is that URL,
 * always.
 */
export class BrokerNodes {
  readonly urls: readonly string[];
  private index = 0;

  constructor(value: string) {
    this.urls = parseBrokerUrls(value);
  }

  /** The URL of the next attempt (or of the connection open now). */
  get current(): string {
    return this.urls[this.index]!;
  }

  /** `host:port` (and the vhost unless it is the default) of `current`: for logs and state, never the credentials. */
  get label(): string {
    return brokerNodeLabel(this.current);
  }

  /** Moves to the next node of the list (the first after the last). */
  advance(): void {
    this.index = (this.index + 1) % this.urls.length;
  }
}

/** The URLs of a comma-separated list, trimmed, empty entries dropped; each must be an amqp:// or amqps:// URL. */
export function parseBrokerUrls(value: string): string[] {
  const urls = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error('AMQP_URL names no broker');
  for (const [i, url] of urls.entries()) {
    if (!/^amqps?:\/\//i.test(url)) throw new Error(`AMQP_URL entry ${i + 1} is not an amqp:// or amqps:// URL: ${brokerNodeLabel(url)}`);
  }
  return urls;
}

/** `127.0.0.1:5701` or `mq1:5672/shop`: where a URL points, without user or password (which may hold secrets). */
export function brokerNodeLabel(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(unreadable URL)';
  }
  const port = u.port || (u.protocol === 'amqps:' ? '5671' : '5672');
  const vhost = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return `${u.hostname}:${port}${vhost && vhost !== '/' ? `/${vhost}` : ''}`;
}
