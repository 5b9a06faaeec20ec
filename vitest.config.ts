import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Vitest's own order (failed first, then slowest first), except that the
 * chaos files run by file name, with `6-postgres-stop` (it stops
 * PostgreSQL) last whatever comes after it by name (DESIGN.md section 9).
 */
class ChaosByName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // By name, except that the file stopping PostgreSQL stays last whatever files are numbered after it (7-scheduler-kill).
    const last = (f: TestSpecification) => (f.moduleId.includes('postgres-stop') ? 1 : 0);
    const chaos = sorted.filter((f) => f.project.name === 'chaos').sort((a, b) => last(a) - last(b) || a.moduleId.localeCompare(b.moduleId));
    return [...sorted.filter((f) => f.project.name !== 'chaos'), ...chaos];
  }
}

/**
 * Four groups: `unit` (pure logic beside the code), `integration` (real
 * RabbitMQ/PostgreSQL, one database and broker prefix per file, files in
 * parallel), `e2e` (the web app in Chromium) and `chaos` (kills and restarts dependencies: one file at a time,
 * in file-name order); `cluster` (a 3-node RabbitMQ cluster, its own
 * `npm run test:cluster`).
 */
export default defineConfig({
  test: {
    sequence: { sequencer: ChaosByName },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['broker/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'web/src/lib/**/*.test.ts', 'deploy/check/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/svelte-kit-sync.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/security/**/*.test.ts', 'broker/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'bridge-script/test/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          // Chromium (playwright-core, Debian's /usr/bin/chromium) through the web server, the platform in-process.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        test: {
          // A 3-node RabbitMQ cluster of its own (scripts/cluster/), started by the global setup: `npm run test:cluster`, not `npm test`.
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/cluster/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
