/**
 * Wall-clock time for the rules that depend on it (the 5-minute signature
 * window, the replay cache, the reply-id memory). Injectable so tests can
 * move time instead of waiting for it.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
