import { io, type Socket } from 'socket.io-client';

/**
 * The app's one socket.io connection to the API, opened on first use and
 * shared by every page and panel (test runs, live tail, admin feed): same
 * origin (server.js proxies /socket.io), so the session cookie
 * authenticates the handshake and the API checks its Origin. Users take
 * their listeners off (and leave their rooms) when they go; the socket
 * stays for the next page.
 */
let shared: Socket | null = null;

export function getSocket(): Socket {
  shared ??= io({ path: '/socket.io', transports: ['websocket', 'polling'], withCredentials: true });
  return shared;
}

/** Logging out: the socket was authenticated as this user, so the next user gets a new one. */
export function closeSocket(): void {
  shared?.disconnect();
  shared = null;
}

export type Ack = { ok: true } | { ok: false; error: { code: string; message?: string } };

/**
 * Joins a room now and again after every reconnect (a reconnect loses the
 * rooms); `onAck` gets each answer (a refusal too, e.g. KB_ERR_FORBIDDEN).
 * Returns the function that stops rejoining.
 */
export function keepJoined(socket: Socket, event: string, arg: unknown, onAck: (ack: Ack) => void): () => void {
  const join = () =>
    socket
      .timeout(5000)
      .emitWithAck(event, arg)
      .then((ack: Ack) => onAck(ack))
      .catch(() => undefined); // no answer in time: the next `connect` tries again
  socket.on('connect', join);
  if (socket.connected) void join();
  return () => socket.off('connect', join);
}
