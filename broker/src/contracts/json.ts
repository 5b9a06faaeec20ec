/**
 * A view as a client receives it: `JSON.stringify` (fastify's replies,
 * socket.io's packets) turns every Date into its ISO string. The API builds
 * its views with Dates; the web reads `Json<CommandView>`.
 */
export type Json<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

/**
 * A socket.io event map as a client sees it: every payload, acknowledgement
 * answers included, through JSON (`Socket<JsonEvents<ServerToClientEvents>, JsonEvents<ClientToServerEvents>>`).
 */
export type JsonEvents<E> = { [K in keyof E]: E[K] extends (...args: infer A) => void ? (...args: JsonArgs<A>) => void : E[K] };

type JsonArgs<A extends unknown[]> = { [I in keyof A]: A[I] extends (...answer: infer B) => void ? (...answer: Json<B>) => void : Json<A[I]> };
