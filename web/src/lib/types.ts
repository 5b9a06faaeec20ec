/** What the API answers (services/api/README.md); dates arrive as ISO strings. */
export interface Me {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  tenant: { id: string; name: string; plan: string };
}

export type Target =
  | { type: 'sandbox'; language: 'python'; code: string }
  | { type: 'http'; url: string; method?: string; headers?: Record<string, string> };

export interface Command {
  id: number;
  command: string;
  pattern: string | null;
  description: string | null;
  timeoutMs: number;
  isActive: boolean;
  target: Target;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface LintFinding {
  code: string;
  message: string;
  /** 1-based, as the sandbox runtime's lint reports them. */
  line: number;
  column: number;
}

export interface RunView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  result: Record<string, unknown> | null;
  error: { code: string; message: string; line?: number } | null;
  output: string;
  durationMs: number | null;
  cpuMs: number | null;
  peakMemoryBytes: number | null;
  commandId: number | null;
}

export interface RunStats {
  elapsedMs: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  command: string;
  pattern: string | null;
  testInput: unknown;
  code: string;
  liveOutput?: boolean;
}

export interface CommandStats {
  commandId: number;
  calls: number;
  errors: number;
  errorRate: number | null;
}
