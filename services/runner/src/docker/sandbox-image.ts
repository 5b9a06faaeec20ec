import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { DockerEngine } from './docker-engine.js';

const execFileP = promisify(execFile);
/** The build script of this checkout (absent in a deployment that ships only the image). */
const BUILD_SH = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../sandbox-image/build.sh');
const BUILD_LOCK = '/tmp/domaeka-sandbox-build.lock';
export const VERSION_LABEL = 'org.domaeka.sandbox.version';
/** debootstrap + build on a fresh machine: minutes. */
const BUILD_TIMEOUT_MS = 20 * 60_000;

/**
 * Makes sure the sandbox image is there and current before any container
 * starts (issue 3: "the image carries a version label; the runner builds
 * it when missing"). With this checkout's `sandbox-image/build.sh` at hand,
 * a missing image, or one whose version label is not the version of the
 * runtime in this checkout, is built (the script is idempotent and says
 * what it does); without it, a missing image stops the start with the
 * command that makes it. Only `<name>:latest` (or an untagged name) is
 * built: a pinned tag is the operator's to provide.
 */
export async function ensureSandboxImage(engine: DockerEngine, image: string, logger: Logger, build = true): Promise<string> {
  const labels = await engine.imageLabels(image);
  const [name, tag = 'latest'] = splitTag(image);
  const canBuild = build && tag === 'latest' && existsSync(BUILD_SH);
  if (labels && !canBuild) return labels[VERSION_LABEL] ?? 'unknown';
  if (!labels && !canBuild) {
    throw new Error(`sandbox image ${image} is missing: run \`bash sandbox-image/build.sh\``);
  }
  const env = { ...process.env, KB_SANDBOX_IMAGE: name };
  const want = (await execFileP('bash', [BUILD_SH, '--print-version'], { env })).stdout.trim();
  if (labels && labels[VERSION_LABEL] === want) return want;
  logger.warn({ image, have: labels?.[VERSION_LABEL] ?? null, want }, labels ? 'sandbox image is stale: rebuilding' : 'sandbox image missing: building it');
  // Runners starting together (a test suite, several on one host) build once: the others wait on the
  // lock, then find the current version there (build.sh never rebuilds it).
  await execFileP('flock', [BUILD_LOCK, 'bash', BUILD_SH], { env, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  logger.info({ image, version: want }, 'sandbox image built');
  return want;
}

function splitTag(image: string): [string, string | undefined] {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? [image.slice(0, colon), image.slice(colon + 1)] : [image, undefined];
}
