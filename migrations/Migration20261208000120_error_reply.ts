import { Migration } from '@mikro-orm/migrations';

/**
 * The tenant's own words for a room when its command's code fails (issue
 * 16): `tenants.error_reply`, null for the platform's polite default
 * (`roomMessages` in services/core/src/errors.ts). The dispatcher reads it
 * with the bot (one query) and sends it instead of the default for code
 * errors (`CODE_ERRORS`); a room never sees a line number or a traceback.
 */
export class Migration20261208000120_error_reply extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table tenants add column error_reply text;`);
    this.addSql(`alter table tenants add constraint tenants_error_reply_check check (char_length(error_reply) >= 1 and char_length(error_reply) <= 200);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table tenants drop column error_reply;`);
  }
}
