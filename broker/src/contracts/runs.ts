import type { ErrorExplanation } from '../schemas/runner.js';

export type { ErrorExplanation, LintFinding } from '../schemas/runner.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** `GET /runs/:id`, the `run:join` answer and `run:result`: a test run so far, or its end. */
export interface RunView {
  id: string;
  status: RunStatus;
  result: Record<string, unknown> | null;
  /** `explanation`: a common Python mistake in one Korean sentence with the line (the sandbox runtime's), beside the Python message and traceback. */
  error: { code: string; message: string; line?: number; explanation?: ErrorExplanation } | null;
  output: string;
  durationMs: number | null;
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  commandId: number | null;
  createdAt: Date;
  finishedAt: Date | null;
}
