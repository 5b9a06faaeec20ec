/**
 * Connection caps of the bridge port: in total, per source address, per
 * source address for connections not yet signed, and per bot.
 *
 * Modelled on the way TCP front ends count *current* connections per key
 * and refuse at accept: nginx `limit_conn` (ngx_stream_limit_conn_module,
 * a shared counter per key, taken at accept and given back at close) and
 * HAProxy's `tcp-request connection reject if { src_conn_cur ge N }`. The
 * extra cap on unsigned connections per address is there because those are
 * the cheap attack: holding one costs nothing but a socket, while a signed
 * one needs the bot's key. For the per-bot cap the oldest unsigned member
 * is evicted to make room, as a SYN cache drops its oldest half-open entry
 * when a bucket is full (FreeBSD syncache), so a flood of handshakes that
 * never sign cannot lock a bot's real phones out; only signed members
 * make the bot's cap refuse.
 *
 * Pure bookkeeping (no sockets, no timers): the bridge server and the
 * connection call it at accept, at the handshake, at the first valid
 * signature and at close.
 */

export interface CapLimits {
  /** Open connections on this gateway, signed or not. */
  maxConnections: number;
  /** Open connections from one source (an IPv4 address, an IPv6 /64). */
  maxConnectionsPerIp: number;
  /** Connections from one source that have not sent a validly signed packet yet (handshake included). */
  maxUnsignedPerIp: number;
  /** Handshaken connections of one bot, signed or not. */
  maxConnectionsPerBot: number;
}

/** Why a connection was refused or closed by a cap (metric label). */
export type CapReason = 'cap_total' | 'cap_ip' | 'cap_ip_unsigned' | 'cap_bot' | 'cap_bot_evicted';

/** One admitted connection's place in the counts; the connection holds it until it closes. */
export interface CapTicket {
  readonly source: string;
  signed: boolean;
  bot: string | null;
  deviceKey: string | null;
  released: boolean;
  /** Set by the connection: closes it when `joinBot` evicts it (the caller of `joinBot` calls it). */
  onEvict?: () => void;
}

type Admit = { ok: true; ticket: CapTicket } | { ok: false; reason: CapReason };
type JoinBot = { ok: true; evicted: CapTicket | null } | { ok: false; reason: 'cap_bot' };

export class ConnectionCaps {
  private total = 0;
  private unsignedTotal = 0;
  private readonly bySource = new Map<string, { open: number; unsigned: number }>();
  /** Per bot, in arrival order (a Set iterates in insertion order: the first unsigned is the oldest). */
  private readonly byBot = new Map<string, Set<CapTicket>>();

  constructor(private readonly limits: CapLimits) {}

  get open(): number {
    return this.total;
  }

  get unsigned(): number {
    return this.unsignedTotal;
  }

  /** At accept: counts the connection in, or says which cap it would pass. */
  admit(remoteAddress: string | undefined): Admit {
    const source = sourceKey(remoteAddress);
    const s = this.bySource.get(source);
    if (this.total >= this.limits.maxConnections) return { ok: false, reason: 'cap_total' };
    if (s && s.open >= this.limits.maxConnectionsPerIp) return { ok: false, reason: 'cap_ip' };
    if (s && s.unsigned >= this.limits.maxUnsignedPerIp) return { ok: false, reason: 'cap_ip_unsigned' };
    if (s) {
      s.open++;
      s.unsigned++;
    } else this.bySource.set(source, { open: 1, unsigned: 1 });
    this.total++;
    this.unsignedTotal++;
    return { ok: true, ticket: { source, signed: false, bot: null, deviceKey: null, released: false } };
  }

  /**
   * At the handshake (bot known). A full bot evicts its oldest unsigned
   * member (the caller closes it). With only signed members it refuses,
   * unless one of them is the same device reconnecting (its old socket may
   * be dead but not noticed yet; it is replaced once the new one signs).
   * That exception adds one unsigned member at most: the next arrival
   * evicts it.
   */
  joinBot(t: CapTicket, botId: string, deviceKey: string): JoinBot {
    if (t.released || t.bot !== null) return { ok: true, evicted: null };
    let members = this.byBot.get(botId);
    if (!members) this.byBot.set(botId, (members = new Set()));
    let evicted: CapTicket | null = null;
    if (members.size >= this.limits.maxConnectionsPerBot) {
      for (const m of members) {
        if (!m.signed) {
          evicted = m;
          break;
        }
      }
      if (evicted) this.leaveBot(evicted);
      else if (![...members].some((m) => m.deviceKey === deviceKey)) return { ok: false, reason: 'cap_bot' };
    }
    t.bot = botId;
    t.deviceKey = deviceKey;
    members.add(t);
    return { ok: true, evicted };
  }

  /** At the first validly signed packet. */
  markSigned(t: CapTicket): void {
    if (t.signed || t.released) return;
    t.signed = true;
    this.unsignedTotal--;
    const s = this.bySource.get(t.source);
    if (s) s.unsigned--;
  }

  /** At close; safe to call more than once. */
  release(t: CapTicket): void {
    if (t.released) return;
    t.released = true;
    this.total--;
    if (!t.signed) this.unsignedTotal--;
    const s = this.bySource.get(t.source);
    if (s) {
      s.open--;
      if (!t.signed) s.unsigned--;
      if (s.open <= 0) this.bySource.delete(t.source);
    }
    this.leaveBot(t);
  }

  /** Sources with open connections (memory check in tests). */
  get sources(): number {
    return this.bySource.size;
  }

  private leaveBot(t: CapTicket): void {
    if (t.bot === null) return;
    const members = this.byBot.get(t.bot);
    if (members) {
      members.delete(t);
      if (members.size === 0) this.byBot.delete(t.bot);
    }
  }
}

/**
 * The key a source is counted under: the IPv4 address (an IPv4-mapped IPv6
 * address counts as its IPv4 address), or the /64 of an IPv6 address,
 * because one host or home gets a whole /64 and can pick any address in it.
 */
export function sourceKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const a = remoteAddress.toLowerCase();
  if (!a.includes(':')) return a;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  const zoneless = a.split('%')[0]!;
  const [head, tail] = zoneless.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}
