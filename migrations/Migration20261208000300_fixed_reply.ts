import { Migration } from '@mikro-orm/migrations';

/**
 * A command with a fixed answer (issue 16, item 4): `target_type = 'reply'`
 * and the answer in `reply` (jsonb `{text, imageUrl, buttons:[{label,url}]}`,
 * checked by the API's `checkFixedReply`). The dispatcher answers it
 * without calling anything; the columns of the other targets stay null.
 */
export class Migration20261208000300_fixed_reply extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kb_commands add column reply jsonb;`);
    this.addSql(`alter table kb_commands drop constraint kb_commands_target_type_check;`);
    this.addSql(`alter table kb_commands add constraint kb_commands_target_type_check check (target_type in ('http','sandbox','reply'));`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from kb_commands where target_type = 'reply';`);
    this.addSql(`alter table kb_commands drop constraint kb_commands_target_type_check;`);
    this.addSql(`alter table kb_commands add constraint kb_commands_target_type_check check (target_type in ('http','sandbox'));`);
    this.addSql(`alter table kb_commands drop column reply;`);
  }
}
