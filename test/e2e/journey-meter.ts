import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Locator, Page } from 'playwright-core';

/**
 * What a journey costs its user, counted as it goes: every click, every
 * field typed (desktop and phone side apart), and the product's own waiting
 * time (from an action to the answer it waits for: a page, a saved version,
 * the phone's reply). `report()` is the one JSON line the journey prints.
 */
export class JourneyMeter {
  readonly clicks: string[] = [];
  readonly typed: string[] = [];
  /** Fields typed on the phone (MessengerBot R): the acceptance wants none beyond pasting/scanning. */
  readonly phoneTyped: string[] = [];
  readonly waits: { what: string; ms: number }[] = [];
  private readonly started = performance.now();

  async click(what: string, target: Locator): Promise<void> {
    this.clicks.push(what);
    await target.click();
  }

  async fill(what: string, target: Locator, value: string): Promise<void> {
    this.typed.push(what);
    await target.fill(value);
  }

  /** Waits for what the product shows after an action; the time counts as the product's. */
  async waitFor<T>(what: string, ready: Promise<T>): Promise<T> {
    const t0 = performance.now();
    const value = await ready;
    this.waits.push({ what, ms: Math.round(performance.now() - t0) });
    return value;
  }

  report(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const productWaitMs = this.waits.reduce((n, w) => n + w.ms, 0);
    return {
      journey: 'first-reply',
      clicks: this.clicks.length,
      clickList: this.clicks,
      typedFields: this.typed.length,
      typedList: this.typed,
      phoneTypedFields: this.phoneTyped.length,
      productWaitMs,
      waits: this.waits,
      wallMs: Math.round(performance.now() - this.started),
      ...extra,
    };
  }
}

/** The five settings as the pre-filled bridge script's `var X = "...";` lines hold them (JSON string literals). */
export function scriptSettings(script: string): Record<'SERVER_HOST' | 'SERVER_PORT' | 'BOT_NAME' | 'SECRET_KEY' | 'SALT', string> {
  const out: Record<string, string> = {};
  for (const name of ['SERVER_HOST', 'SERVER_PORT', 'BOT_NAME', 'SECRET_KEY', 'SALT']) {
    const m = new RegExp(`^var ${name} = ("(?:[^"\\\\]|\\\\.)*");`, 'm').exec(script);
    if (!m) throw new Error(`no ${name} line in the script`);
    out[name] = JSON.parse(m[1]!) as string;
  }
  return out as ReturnType<typeof scriptSettings>;
}

/** Clicks a download link and returns the downloaded file's text. */
export async function downloadText(page: Page, click: () => Promise<void>): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(path, 'utf8') };
}
