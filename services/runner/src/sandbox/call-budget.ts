/**
 * What the runner accepts from a sandbox for one call, whatever the framing
 * (issue 13, hole 4: a frame forged onto the runtime channel carried
 * 3,000,000 characters of output). The runner counts what it receives per
 * call and enforces the caps itself, the way AWS Lambda's Runtime API
 * enforces its payload limit on whatever the function's process posts:
 * the runtime inside the container caps too, but the runner never relies
 * on it.
 */

/** Output kept per call (sandbox-image/README.md, "Output"): the first 64 KiB (UTF-8). */
export const OUTPUT_MAX_BYTES = 64 * 1024;
/** A normalised result: at most 1 MiB of JSON (sandbox-image/runtime/kbrt/result.py). */
export const RESULT_MAX_BYTES = 1024 * 1024;
/**
 * Raw bytes of output events one call may send. The runtime streams only
 * bytes its capture kept (at most 64 KiB, up to 6 bytes each when escaped
 * as JSON, plus a few dozen bytes a frame); more is not the runtime.
 */
export const EVENT_BYTES_MAX = 1024 * 1024;

/** `s` cut to the first `max` UTF-8 bytes (a character cut in two is dropped), and whether it was cut. */
export function capText(s: string, max: number): { text: string; cut: boolean } {
  // A character takes at most 4 bytes (and a UTF-16 unit at most 3): short strings need no count.
  if (s.length * 3 <= max) return { text: s, cut: false };
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= max) return { text: s, cut: false };
  let end = max;
  // Back to the start of the character that straddles the cap (continuation bytes are 10xxxxxx).
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8'), cut: true };
}

/**
 * One call's output events: what may still be passed on. Counts the bytes
 * of every event; returns the part of `data` within the output cap ('' once
 * it is spent), or null when the events are past anything the runtime
 * sends (the channel was misused).
 */
export class EventBudget {
  private raw = 0;
  private kept = 0;

  take(data: string, frameBytes: number): string | null {
    this.raw += frameBytes;
    if (this.raw > EVENT_BYTES_MAX) return null;
    const room = OUTPUT_MAX_BYTES - this.kept;
    if (room <= 0) return '';
    const { text } = capText(data, room);
    this.kept += Buffer.byteLength(text);
    return text;
  }
}
