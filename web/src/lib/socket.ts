import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, JoinAnswer, JsonEvents, ServerToClientEvents } from '@domaeka/broker/contracts';
import { goto } from '$app/navigation';
import { api, ApiError } from './api';

/** The API's socket.io events both ways (@domaeka/broker/contracts, live-events.ts), as JSON brings them. */
export type LiveSocket = Socket<JsonEvents<ServerToClientEvents>, JsonEvents<ClientToServerEvents>>;

/**
 * The app's one socket.io connection to the API, opened on first use and
 * shared by every page and panel (test runs, live tail, admin feed): same
 * origin (server.js proxies /socket.io), so the session cookie
 * authenticates the handshake and the API checks its Origin. Users take
 * their listeners off (and leave their rooms) when they go; the socket
 * stays for the next page.
 */
let shared: LiveSocket | null = null;

export function getSocket(): LiveSocket {
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
async function authEnded(socket: LiveSocket): Promise<void> {
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

/**
 * Joins a room now and again after every reconnect (a reconnect loses the
 * rooms); `onAck` gets each answer (a refusal too, e.g. KB_ERR_FORBIDDEN).
 * Returns the function that stops rejoining.
 */
export function keepJoined<E extends 'tail:join' | 'admin:join' | 'devices:join'>(socket: LiveSocket, event: E, arg: Parameters<ClientToServerEvents[E]>[0], onAck: (ack: JoinAnswer) => void): () => void {
  const join = () =>
    // The signature checks `event` and `arg` against the API's map; socket.io's overloads cannot follow a generic name.
    (socket as unknown as Socket)
      .timeout(5000)
      .emitWithAck(event, arg)
      .then((ack: JoinAnswer) => onAck(ack))
      .catch(() => undefined); // no answer in time: the next `connect` tries again
  socket.on('connect', join);
  if (socket.connected) void join();
  return () => socket.off('connect', join);
}
