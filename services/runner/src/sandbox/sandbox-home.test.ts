import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxHomes } from './sandbox-home.js';

describe('SandboxHomes', () => {
  const root = mkdtempSync(join(tmpdir(), 'kb-homes-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('gives each container its own unlisted directory, mounted read-only, with socket paths far below the unix limit', async () => {
    const homes = new SandboxHomes(root, 't.some-long-broker-prefix.0123456789abcdef', 'a-runner-id-as-long-as-a-hostname-can-make-it-abcdef-12345678');
    const a = await homes.create();
    const b = await homes.create();
    expect(a.dir).not.toBe(b.dir);
    expect(statSync(a.dir).mode & 0o777).toBe(0o711);
    expect(statSync(join(a.dir, '..')).mode & 0o777).toBe(0o711);
    expect(a.bind).toBe(`${a.dir}:/run/kb:ro`);
    // A unix socket path has at most 107 bytes and RUNNER_SOCKET_DIR at most 50 (config.ts): the home adds the rest.
    expect(Buffer.byteLength(a.path('egress.sock')) - root.length).toBeLessThanOrEqual(107 - 50);
    await a.remove();
    expect(existsSync(a.dir)).toBe(false);
    expect(existsSync(b.dir)).toBe(true);
  });

  it("removes a runner's homes, and only that runner's", async () => {
    const mine = new SandboxHomes(root, 'kb', 'runner-1');
    const other = new SandboxHomes(root, 'kb', 'runner-2');
    const a = await mine.create();
    const b = await other.create();
    await mine.removeRunner('runner-2');
    expect(existsSync(b.dir)).toBe(false);
    expect(existsSync(a.dir)).toBe(true);
    await mine.removeRunner();
    expect(existsSync(a.dir)).toBe(false);
  });
});
