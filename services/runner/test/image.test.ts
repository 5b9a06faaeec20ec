import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRunner } from '../src/app.js';
import { parseRunnerConfig } from '../src/config.js';
import { DockerEngine } from '../src/docker/docker-engine.js';
import { VERSION_LABEL } from '../src/docker/sandbox-image.js';
import { createTestEnv, type TestEnv } from '../../../test/support/env.js';
import { RpcCaller } from '../../../test/support/runner-rpc.js';

const execFileP = promisify(execFile);

/** Issue 3: "the image carries a version label; the runner builds it when missing". */
describe('runner: the sandbox image', () => {
  const engine = new DockerEngine(process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
  const name = `domaeka-sandbox-t${randomBytes(3).toString('hex')}`;
  let env: TestEnv | undefined;

  afterAll(async () => {
    // Only the image names of this test: the layers stay shared with the real image.
    const tags = (await execFileP('docker', ['images', name, '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean);
    if (tags.length) await execFileP('docker', ['rmi', ...tags]).catch(() => undefined);
    await env?.cleanup();
  });

  it('is built by the runner when missing, labelled with the version of this checkout, and runs calls', async () => {
    env = await createTestEnv('runner-image');
    expect(await engine.imageExists(`${name}:latest`)).toBe(false);
    const runner = buildRunner(
      parseRunnerConfig({ ...env.env, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', RUNNER_POOL_SIZE: '0', SANDBOX_IMAGE: `${name}:latest` }),
    );
    await runner.start();
    const caller = await RpcCaller.connect(env.amqpUrl);
    try {
      const want = (await execFileP('bash', ['sandbox-image/build.sh', '--print-version'])).stdout.trim();
      expect((await engine.imageLabels(`${name}:latest`))?.[VERSION_LABEL]).toBe(want);
      const r = await caller.call(runner.queue, caller.callPayload({ code: 'def handle_command(params):\n    return "새 이미지"\n' }));
      expect(r.result?.text).toBe('새 이미지');
    } finally {
      await caller.close();
      await runner.stop();
    }
  });

  it('refuses to start with a pinned tag that is missing, naming the command that builds it', async () => {
    env ??= await createTestEnv('runner-image');
    const runner = buildRunner(parseRunnerConfig({ ...env.env, RUNNER_HTTP_PORT: '0', RUNNER_HTTP_HOST: '127.0.0.1', SANDBOX_IMAGE: `${name}:pinned` }));
    await expect(runner.start()).rejects.toThrow(/sandbox-image\/build\.sh/);
  });
});
