import { io, type Socket } from 'socket.io-client';
import { goto } from '$app/navigation';
import { api, ApiError } from './api';

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
  if (!shared) {
    shared = io({ path: '/socket.io', transports: ['websocket', 'polling'], withCredentials: true });
    const socket = shared;
    socket.on('auth:ended', () => void authEnded(socket));
  }
  return shared;
}

/**
 * The API ended the credentials this socket was opened with (`auth:ended`,
 * then its disconnect: a logout or password change elsewhere, an expired
 * session). Whether the browser is still signed in decides: a password
 * change renews this browser's session cookie (here or in another tab), so
 * then the same socket reconnects with the cookie the browser has now and
 * its rooms are joined again (`keepJoined`); otherwise the login page, with
 * the notice (`?ended=1`) and the way back (`next`).
 */
async function authEnded(socket: Socket): Promise<void> {
  let signedIn = true;
  try {
    await api('GET', '/me');
  } catch (err) {
    // Only a 401 says the session ended; the server being away is no reason to sign out.
    signedIn = !(err instanceof ApiError && err.status === 401);
  }
  if (shared !== socket) return; // logged out (or replaced) meanwhile
  if (!signedIn) {
    closeSocket();
    await goto(`/login?ended=1&next=${encodeURIComponent(location.pathname + location.search)}`, { invalidateAll: true });
    return;
  }
  if (socket.connected) socket.once('disconnect', () => socket.connect());
  else socket.connect();
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
