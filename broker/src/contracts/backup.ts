/** What `POST /import` answers (a tenant's export file taken into an empty account; services/api/src/backup). */
export interface ImportSummary {
  /** Korean first: what came in, in one sentence. */
  message: string;
  commands: number;
  versions: number;
  schedules: { imported: number; skipped: { command: string; label: string; rooms: { botName: string; room: string }[] }[] };
  storeKeys: number;
  tables: { name: string; rows: number }[];
  /** Secret names the file lists (never their values): to enter again under 설정 > 비밀 값. */
  secretsToFill: string[];
  /** HTTP headers whose literal values were not in the file: to set again in the command editor. */
  headersToFill: { command: string; header: string }[];
}
