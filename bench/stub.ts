import { Worker } from 'node:worker_threads';

/**
 * The tenant's HTTP API for the bench: 127.0.0.1, port 0, answers every
 * POST at once with `{text: "ok <id>"}`, where `<id>` is the second word of
 * the chat text (`bench <id>`), so the phone can match the reply to its
 * message. It runs on a worker thread: its event loop does not share a turn
 * with the phones' timing. Plain JavaScript (eval), so it needs no loader.
 */

const SOURCE = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
let requests = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests++;
    let id = '?';
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const words = String(body.raw_text || '').split(/\\s+/);
      id = words[1] || '?';
    } catch {}
    const out = JSON.stringify({ text: 'ok ' + id });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.keepAliveTimeout = 10000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'count') parentPort.postMessage({ requests });
  if (m === 'close') { server.closeAllConnections(); server.close(() => process.exit(0)); }
});
`;

export interface BenchStub {
  port: number;
  /** Requests answered so far. */
  requests(): Promise<number>;
  close(): Promise<void>;
}

export async function startBenchStub(): Promise<BenchStub> {
  const worker = new Worker(SOURCE, { eval: true });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port: number }) => resolve(m.port));
  });
  return {
    port,
    requests: () =>
      new Promise((resolve) => {
        worker.once('message', (m: { requests: number }) => resolve(m.requests));
        worker.postMessage('count');
      }),
    async close() {
      const gone = new Promise((r) => worker.once('exit', r));
      worker.postMessage('close');
      const t = setTimeout(() => void worker.terminate(), 2000);
      await gone;
      clearTimeout(t);
    },
  };
}
