import { Migration } from '@mikro-orm/migrations';

/**
 * Login and signup brakes shared by every API process (issue 18 item 2):
 * one row per brake and key, `key_hash` the SHA-256 of the email, address,
 * device or account+place (never the plaintext), `hits` the epoch
 * milliseconds of the attempts still counted, oldest first. The API appends
 * and takes back hits with one statement each (ON CONFLICT locks the row, so
 * two processes never both pass the last free attempt) and deletes rows
 * past `expires_ms` itself, lazily on write (services/api/src/accounts/attempt-store.ts).
 */
export class Migration20261208000600_auth_attempts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table kb_auth_attempts (
      scope text not null,
      key_hash bytea not null,
      window_ms integer not null,
      hits bigint[] not null,
      expires_ms bigint not null,
      primary key (scope, key_hash)
    );`);
    this.addSql(`create index kb_auth_attempts_expires_idx on kb_auth_attempts (expires_ms);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table kb_auth_attempts;`);
  }
}
