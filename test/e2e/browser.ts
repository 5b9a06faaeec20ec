import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
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

/** `extraEnv`: more of web/server.js's settings (e.g. `WEB_PROXY_SECRET`). */
export async function startWeb(apiPort: number, extraEnv: Record<string, string> = {}): Promise<WebServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['web/server.js'], {
    cwd: root,
    env: { ...process.env, API_URL: `http://127.0.0.1:${apiPort}`, WEB_PORT: String(port), WEB_HOST: '127.0.0.1', ...extraEnv },
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

/**
 * Waits until `expression` is truthy in the page and returns its value.
 * Not `page.waitForFunction`: its re-checks run in the page through
 * `eval`, which the web app's CSP forbids (no 'unsafe-eval'); each check
 * here is a `page.evaluate`, which comes over the DevTools protocol.
 */
export async function waitForPage<T = unknown>(page: Page, expression: string, timeoutMs = 30_000): Promise<T> {
  return waitFor(async () => (await page.evaluate(expression)) as T, { what: expression, timeoutMs, intervalMs: 50 });
}

/** The editor mounted and editable (CodeEditor.svelte sets it); for `waitForPage`. */
export const EDITOR_READY = 'window.__kbEditorReady !== undefined';

/**
 * A browser context signed in as a tenant made through the API
 * (`TenantClient`): its `kb_session` and `kb_csrf` cookies set on the web
 * server's origin, clipboard allowed (for `pasteCode`). A desktop screen
 * unless `viewport` says otherwise (a phone: 390x844).
 */
export async function signedInContext(
  browser: Browser,
  webUrl: string,
  tenant: { cookie: string },
  viewport: { width: number; height: number } = { width: 1280, height: 860 },
): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, locale: 'ko-KR', permissions: ['clipboard-read', 'clipboard-write'] });
  const cookies = tenant.cookie.split(';').map((pair) => {
    const [name, ...rest] = pair.trim().split('=');
    return { name: name!, value: rest.join('='), url: webUrl, httpOnly: name === 'kb_session', sameSite: 'Lax' as const };
  });
  await context.addCookies(cookies);
  return context;
}

export const PASSWORD = 'correct horse battery';

/** Signs up through the UI from a page without a session (the login page, then its signup link). */
export async function signUpThroughUI(page: Page, baseUrl: string, who: { name: string; email: string }): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.waitForURL(/\/login/);
  await page.getByRole('link', { name: '회원가입' }).click();
  await page.getByLabel('이름', { exact: true }).fill(who.name);
  await page.getByLabel('이메일').fill(who.email);
  await page.getByLabel('비밀번호 (8자 이상)').fill(PASSWORD);
  await page.getByRole('button', { name: '회원가입' }).click();
  await page.getByRole('heading', { name: '명령어' }).waitFor();
}

/** Logs in through the UI (the account's password is PASSWORD, as TenantClient signs up). */
export async function logInThroughUI(page: Page, baseUrl: string, email: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('이메일').fill(email);
  await page.getByLabel('비밀번호 (8자 이상)').fill(PASSWORD);
  await page.getByRole('button', { name: '로그인' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

/** A program that prints, sleeps a second and prints: its output and CPU/memory show while it runs. */
export const TIMER_CODE = `import time

def handle_command(params):
    print("첫 줄", flush=True)
    time.sleep(1)
    print("둘째 줄", flush=True)
    return "끝"
`;

/**
 * Installs an observer that notes (performance.now()) when a run's first
 * line, its first CPU/memory figure and its result first show, counted from
 * when the previous result is gone; read them from `window.__kbSeen`.
 */
export const WATCH_RUN = `(() => {
  const seen = (window.__kbSeen = {});
  const look = () => {
    const now = performance.now();
    // The last run's result is still on screen until this run starts: count from when it is gone.
    if (!seen.started) {
      if (document.querySelector('[data-testid="run-ok"]')) return;
      seen.started = now;
    }
    const out = document.querySelector('[data-testid="run-output"]')?.textContent ?? '';
    if (!seen.output && out.includes('첫 줄')) seen.output = now;
    const live = document.querySelector('[data-testid="run-live"]')?.textContent ?? '';
    if (!seen.live && /메모리 [0-9.]+(KB|MB)/.test(live) && /CPU [0-9.]+%/.test(live)) seen.live = now;
    if (!seen.result && document.querySelector('[data-testid="run-ok"]')) seen.result = now;
  };
  new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
})()`;

/** No sideways scrolling of the page itself (wide tables scroll inside their own box). */
export async function pageWidth(page: Page): Promise<number> {
  return (await page.evaluate('document.documentElement.scrollWidth')) as number;
}
