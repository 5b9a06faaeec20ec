export type { LintFinding } from '../schemas/runner.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** `GET /runs/:id`, the `run:join` answer and `run:result`: a test run so far, or its end. */
export interface RunView {
  id: string;
  status: RunStatus;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; line?: number } | null;
  output: string;
  durationMs: number | null;
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  commandId: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}
