#!/usr/bin/env node
// `npm start`: the whole platform on one machine. Installs what is missing,
// migrates, then runs every service under a small supervisor that restarts
// a crashed service and stops everything cleanly on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
// The web server vouches for the browser addresses it forwards with this secret, which only it and the API
// hold (services/api/README.md, "Auth"): one per launch unless the operator set one.
env.WEB_PROXY_SECRET ||= randomBytes(32).toString('hex');

function step(title) {
  console.log(`\n▶ ${title}`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  if (r.status !== 0) {
    console.error(`\n✖ ${cmd} ${args.join(' ')} failed (exit ${r.status}).`);
    process.exit(1);
  }
}

if (!existsSync(resolve(root, 'node_modules/.package-lock.json'))) {
  step('의존성 설치 / installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund'], { env: { ...env, DEVELOPMENT_SKIP_GETTING_ASSET: '1' } });
}

step('RabbitMQ, PostgreSQL 확인 / checking RabbitMQ and PostgreSQL');
run('bash', ['scripts/ensure-services.sh']);

step('Docker 엔진과 샌드박스 이미지 확인 / checking the Docker engine and the sandbox image');
// ensure-docker.sh installs and starts the engine only as root on Debian/Ubuntu; elsewhere it says what is missing.
if (process.getuid?.() !== 0 && spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) {
  console.error(`
✖ Docker 엔진이 응답하지 않습니다 / no Docker engine answers.
  root 로 실행하면 자동으로 설치·시작합니다 / run as root to install and start it, or start it yourself
  (e.g. \`sudo bash scripts/ensure-docker.sh\`), then \`npm start\` again.`);
  process.exit(1);
}
run('bash', ['scripts/ensure-docker.sh']);
run('bash', ['sandbox-image/build.sh']);

step('데이터베이스 마이그레이션 / migrating the database');
run(process.execPath, ['--import', 'tsx', 'migrations/cli.ts']);

// Builds only when web/build is missing or older than web/src (it says which).
step('웹 앱 빌드 확인 / checking the web app build');
run(process.execPath, ['web/build-if-stale.js']);

const services = [
  { name: 'api', entry: 'services/api/src/main.ts' },
  { name: 'dispatcher', entry: 'services/dispatcher/src/main.ts' },
  { name: 'gateway', entry: 'services/gateway/src/main.ts' },
  { name: 'runner', entry: 'services/runner/src/main.ts' },
  { name: 'scheduler', entry: 'services/scheduler/src/main.ts' },
  // Plain Node (no tsx): the SvelteKit build plus the /api and /socket.io proxy.
  { name: 'web', entry: 'web/server.js', plain: true },
];

const children = new Map();
let stopping = false;

function prefixLines(name, stream, out) {
  let buf = '';
  stream.on('data', (chunk) => {
    buf += chunk.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      out.write(`[${name}] ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
}

function startService(svc, attempt = 0) {
  const child = spawn(process.execPath, svc.plain ? [svc.entry] : ['--import', 'tsx', svc.entry], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(svc.name, child);
  prefixLines(svc.name, child.stdout, process.stdout);
  prefixLines(svc.name, child.stderr, process.stderr);
  const startedAt = Date.now();
  child.on('exit', (code, signal) => {
    children.delete(svc.name);
    if (stopping) return;
    const quick = Date.now() - startedAt < 10_000;
    const next = quick ? attempt + 1 : 0;
    const delay = Math.min(1000 * 2 ** next, 30_000);
    console.error(`[${svc.name}] exited (${signal ?? code}); restarting in ${delay} ms`);
    setTimeout(() => startService(svc, next), delay);
  });
}

step('서비스 시작 / starting services');
for (const svc of services) startService(svc);

const port = (name, fallback) => env[name] || fallback;
/** Where to reach a service from this machine: its bind address, loopback for the wildcard ones. */
const host = (name, fallback = '127.0.0.1') => {
  const h = env[name] || fallback;
  return h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
};
console.log(`
  웹 편집기     http://${host('WEB_HOST')}:${port('WEB_PORT', '3000')}/   (web app: sign up, write commands)
  API          http://${host('API_HOST')}:${port('API_PORT', '8080')}/api/v1   (health: /healthz, /readyz, /metrics)
  봇 브리지     tcp://0.0.0.0:${port('BRIDGE_PORT', '1490')}             (phones, bridge v3.3)
  gateway ops  http://${host('GATEWAY_HTTP_HOST')}:${port('GATEWAY_HTTP_PORT', '8081')}/readyz
  dispatcher   http://${host('DISPATCHER_HTTP_HOST')}:${port('DISPATCHER_HTTP_PORT', '8082')}/readyz
  runner       http://${host('RUNNER_HTTP_HOST')}:${port('RUNNER_HTTP_PORT', '8083')}/readyz   (sandbox: Docker + ${env.SANDBOX_IMAGE || 'domaeka-sandbox:latest'})
  scheduler    http://${host('SCHEDULER_HTTP_HOST')}:${port('SCHEDULER_HTTP_PORT', '8084')}/readyz   (schedules, KST)
  Ctrl-C 로 종료합니다 / Ctrl-C stops everything.
`);

function shutdown() {
  if (stopping) return;
  stopping = true;
  console.log('\n■ 종료 중 / stopping services…');
  for (const child of children.values()) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(0);
  }, 10_000);
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      clearTimeout(force);
      process.exit(0);
    }
  }, 100);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
