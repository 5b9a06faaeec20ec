import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file (deploy/check/). */
export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** The code that runs in the images: every service, the broker package, the web server, the deploy scripts (tests left out). */
export function runtimeSources(): { path: string; text: string }[] {
  const roots = ['services', 'broker/src', 'scripts/deploy'];
  const out: { path: string; text: string }[] = [];
  for (const root of roots) {
    for (const rel of readdirSync(join(repoRoot, root), { recursive: true }) as string[]) {
      if (!/\.(ts|mjs|js)$/.test(rel) || /\.test\.ts$/.test(rel) || rel.includes('node_modules') || /(^|\/)test\//.test(rel)) continue;
      const path = join(root, rel);
      out.push({ path, text: readFileSync(join(repoRoot, path), 'utf8') });
    }
  }
  out.push({ path: 'web/server.js', text: readFileSync(join(repoRoot, 'web/server.js'), 'utf8') });
  return out;
}

/** Environment variable names some runtime source mentions (`'NAME'`, `env.NAME`). */
export function envNamesRead(sources = runtimeSources()): Set<string> {
  const names = new Set<string>();
  for (const { text } of sources) {
    for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b/g)) names.add(m[1]!);
    for (const m of text.matchAll(/['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"]/g)) names.add(m[1]!);
  }
  return names;
}

/**
 * Prometheus metric names the code registers (`new Counter({ name: '...' })`,
 * and Gauge, Histogram, Summary), with the series a histogram adds.
 */
export function registeredMetrics(sources = runtimeSources()): Map<string, { type: string; path: string }> {
  const metrics = new Map<string, { type: string; path: string }>();
  for (const { path, text } of sources) {
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'([a-z_:][a-z0-9_:]*)'/g)) {
      metrics.set(m[2]!, { type: m[1]!.toLowerCase(), path });
    }
  }
  return metrics;
}
