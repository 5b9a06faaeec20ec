import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@domaeka/broker/contracts';

/** The API's socket.io server and its sockets, typed by the event map the web shares (@domaeka/broker/contracts, live-events.ts). */
export type LiveServer = Server<ClientToServerEvents, ServerToClientEvents>;
export type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents>;
