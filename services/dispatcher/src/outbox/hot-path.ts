/**
 * The connection string of the dispatcher's pools. `enable_seqscan=off`:
 * every statement of the message path finds its rows through an index,
 * and must keep doing so. The outbox statements are prepared once per
 * connection, and PostgreSQL keeps the generic plan it made while
 * kb_outbox was nearly empty (a new deployment) until the table is
 * analysed again, which never happens with autovacuum off (as on our CI
 * machines): that plan hash-joined a full scan of kb_outbox into every
 * completion, 0.25 ms of database CPU at 1,000 rows, 2.6 ms at 14,000,
 * growing with the table. `asyncCommit`: commits that do not wait for the
 * WAL flush (see OutboxStore: claims only).
 */
export function hotPathUrl(databaseUrl: string, opts: { asyncCommit?: boolean } = {}): string {
  const url = new URL(databaseUrl);
  const options = [url.searchParams.get('options') ?? '', '-c enable_seqscan=off', opts.asyncCommit ? '-c synchronous_commit=off' : ''];
  url.searchParams.set('options', options.filter(Boolean).join(' '));
  return url.toString();
}
