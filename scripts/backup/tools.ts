import { execFile } from 'node:child_process';

/** A command-line tool's run: its output, or an error naming the tool and its last stderr lines. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${String(stderr || err.message).trim().split('\n').slice(-5).join(' | ')}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * libpq arguments for a database URL: the URL without its password (argv is
 * visible to every local user) and the password in PGPASSWORD.
 */
export function libpq(databaseUrl: string): { dbname: string; env: Record<string, string> } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = '';
  return { dbname: url.toString(), env: password ? { PGPASSWORD: password } : {} };
}

/** The database's name in a URL (letters, digits and `_` only: it is spliced into `create database`). */
export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unsupported database name "${name}"`);
  return name;
}

/** The same server, another database. */
export function withDatabase(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The command rabbitmqctl is run as (the API uses the same variable for bot-server users). */
export function rabbitmqctl(): string {
  return process.env.RABBITMQCTL || 'rabbitmqctl';
}
