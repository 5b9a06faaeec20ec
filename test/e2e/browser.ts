import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../support/platform.js';
import { waitFor } from '../support/wait.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const screenshots = resolve(root, 'test/e2e/screenshots');

/** The web server (web/server.js) as a child process in front of an API, as `npm start` runs it. */
export interface WebServer {
  url: string;
  logs: string[];
  stop(): Promise<void>;
}

export async function startWeb(apiPort: number): Promise<WebServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['web/server.js'], {
    cwd: root,
    env: { ...process.env, API_URL: `http://127.0.0.1:${apiPort}`, WEB_PORT: String(port), WEB_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (b: Buffer) => logs.push(...b.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`web server exited: ${logs.join('\n')}`);
      return (await fetch(`${url}/login`).catch(() => null))?.status === 200;
    },
    { what: 'web server up', timeoutMs: 30_000 },
  );
  return {
    url,
    logs,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** Debian's chromium, headless; never a downloaded browser. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(screenshots, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(screenshots, `${name}.png`), fullPage: true });
}

/**
 * Replaces the Monaco editor's text as a person pasting would: the text on
 * the clipboard, focus, select all, Ctrl+V (typed keys would get Monaco's
 * auto-indent and auto-closed brackets line by line). The context needs
 * the clipboard permissions (`newContext` in the tests grants them).
 */
export async function pasteCode(page: Page, code: string): Promise<void> {
  await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(code)})`);
  await page.locator('.monaco-editor').first().click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
}
