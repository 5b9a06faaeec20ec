#!/usr/bin/env node
// Builds the web app when web/build is missing or older than its sources
// (`npm start` and the e2e tests' global setup call this; a clean clone
// builds once, later runs skip it). `--check` only tells: exit 1 when stale.
// Engineers share one working tree: a build holds web/.build-lock (its pid),
// so a second caller waits for that build to end and then builds only if
// the sources are still newer (two vite builds at once clobber each other's
// .svelte-kit/output).
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const output = resolve(web, 'build/handler.js');
const sources = ['src', 'static', 'svelte.config.js', 'security-headers.js', 'vite.config.ts', 'package.json', 'tsconfig.json'].map((p) => resolve(web, p));

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of readdirSync(path)) max = Math.max(max, newest(join(path, e)));
  return max;
}

export function staleReason() {
  if (!existsSync(output)) return 'web/build 가 없습니다 / no build yet';
  const built = statSync(output).mtimeMs;
  const changed = sources.find((s) => newest(s) > built);
  return changed ? `${changed.slice(web.length + 1)} 가 빌드보다 새롭습니다 / changed since the last build` : null;
}

const lockPath = resolve(web, '.build-lock');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Takes the build lock: true, or false while another live process holds it (a dead holder's lock is removed). */
function tryLock() {
  try {
    const fd = openSync(lockPath, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    if (pid > 0 && alive(pid)) return false;
    rmSync(lockPath, { force: true });
    return tryLock();
  }
}

/** Waits for the lock (its holder's build ending), at most 10 minutes. */
async function lock() {
  const deadline = Date.now() + 600_000;
  let told = false;
  while (!tryLock()) {
    if (!told) console.log('다른 빌드를 기다리는 중 / waiting for another web build to finish…');
    told = true;
    if (Date.now() > deadline) throw new Error(`${lockPath} still held after 10 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const reason = staleReason();
    console.log(reason ?? '웹 빌드가 최신입니다 / web build is up to date');
    process.exit(reason ? 1 : 0);
  }
  if (!staleReason()) {
    console.log('웹 빌드가 최신입니다 / web build is up to date');
    process.exit(0);
  }
  await lock();
  let status;
  try {
    const reason = staleReason(); // again: the build waited for may have made it fresh
    if (!reason) {
      console.log('웹 빌드가 최신입니다 / web build is up to date');
      status = 0;
    } else {
      console.log(`웹 앱 빌드 중 / building the web app (${reason})…`);
      status = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' }).status ?? 1;
    }
  } finally {
    rmSync(lockPath, { force: true });
  }
  process.exit(status);
}
