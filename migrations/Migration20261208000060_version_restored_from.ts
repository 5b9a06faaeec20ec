import { Migration } from '@mikro-orm/migrations';

/**
 * A rollback saves an old version again as a new one (history only grows);
 * `kb_command_versions.restored_from` names the version it came from, so
 * the 🕘 버전 list labels it ("되돌림: v3에서") instead of showing a
 * save nobody remembers making. Null for every ordinary save.
 */
export class Migration20261208000060_version_restored_from extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kb_command_versions add column restored_from integer;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kb_command_versions drop column restored_from;`);
  }
}
