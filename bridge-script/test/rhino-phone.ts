import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../test/support/wait.js';

const here = dirname(fileURLToPath(import.meta.url));
export const SCRIPT_PATH = join(here, '..', 'domaeka-bridge.js');
const STANDIN_PATH = join(here, 'messengerbot-standin.js');

// The pre-fill is the API's (the web download and the QR link use it): the test fills the script the same way.
export { fillBridgeScript, type BridgeSettings } from '../../services/api/src/bots/bridge-script.js';

/** What the stand-in printed: a room post (`send`), a log line of the script (`log`); `print`: any other stdout line. */
export interface StandInEvent {
  kind: 'send' | 'log' | 'reply' | 'print';
  room?: string;
  text: string;
  level?: string;
}

export interface RoomMessage {
  room: string;
  channelId: string;
  logId: string;
  text: string;
  sender?: string;
}

/**
 * MessengerBot R played by Debian's Rhino: the stand-in objects, then the
 * bridge script (and any extra files), in one `rhino` process. Rhino runs
 * interpreted (`-opt -1`), as on Android.
 */
export class RhinoPhone {
  readonly events: StandInEvent[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcess;
  private readonly dir: string;
  private exited = false;
  private readonly exit: Promise<void>;
  private buffer = '';

  constructor(script: string, opts: { deviceId: string; extraFiles?: Record<string, string> }) {
    this.dir = mkdtempSync(join(tmpdir(), 'bridge-script-'));
    const scriptFile = join(this.dir, 'domaeka-bridge.js');
    writeFileSync(scriptFile, script);
    const files = [STANDIN_PATH, scriptFile];
    for (const [name, body] of Object.entries(opts.extraFiles ?? {})) {
      writeFileSync(join(this.dir, name), body);
      files.push(join(this.dir, name));
    }
    this.child = spawn('rhino', ['-opt', '-1', '-encoding', 'UTF-8', ...files.flatMap((f) => ['-f', f])], {
      env: { ...process.env, STANDIN_DEVICE_ID: opts.deviceId, LC_ALL: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.child.stdin!.on('error', () => undefined);
    this.exit = new Promise((resolve) =>
      this.child.once('exit', () => {
        this.exited = true;
        resolve();
      }),
    );
  }

  /** A chat message arriving in the room (Event.MESSAGE). */
  deliver(m: RoomMessage): void {
    this.child.stdin!.write(JSON.stringify({ kind: 'message', ...m }) + '\n');
  }

  /** Recompiling in the app (Event.START_COMPILE). */
  compile(): void {
    this.child.stdin!.write(JSON.stringify({ kind: 'compile' }) + '\n');
  }

  /** Waits for an event printed after index `from` (default: any so far). */
  async next(match: (e: StandInEvent) => boolean, opts: { from?: number; what: string; timeoutMs?: number }): Promise<StandInEvent> {
    return waitFor(
      () => {
        if (this.exited) throw new Error(`rhino exited: ${this.stderr.join('').slice(-2000)}`);
        return this.events.slice(opts.from ?? 0).find(match);
      },
      { what: opts.what, timeoutMs: opts.timeoutMs },
    );
  }

  /** Texts the room would show (bot.send), in order. */
  posts(room?: string): string[] {
    return this.events.filter((e) => e.kind === 'send' && (room === undefined || e.room === room)).map((e) => e.text);
  }

  logs(): string[] {
    return this.events.filter((e) => e.kind === 'log').map((e) => `${e.level} ${e.text}`);
  }

  async kill(): Promise<void> {
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.startsWith('STANDIN ')) this.events.push(JSON.parse(line.slice('STANDIN '.length)) as StandInEvent);
      else if (line.trim()) this.events.push({ kind: 'print', text: line });
    }
  }
}

export function bridgeTemplate(): string {
  return readFileSync(SCRIPT_PATH, 'utf8');
}
