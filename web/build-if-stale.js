#!/usr/bin/env node
// Builds the web app when web/build is missing or older than its sources
// (`npm start` and the e2e tests' global setup call this; a clean clone
// builds once, later runs skip it). `--check` only tells: exit 1 when stale.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const reason = staleReason();
  if (!reason) {
    console.log('웹 빌드가 최신입니다 / web build is up to date');
    process.exit(0);
  }
  if (process.argv.includes('--check')) {
    console.log(reason);
    process.exit(1);
  }
  console.log(`웹 앱 빌드 중 / building the web app (${reason})…`);
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
