import { Migration } from '@mikro-orm/migrations';

/**
 * HTTP ingress remembers the room and KakaoTalk message id it was given, so
 * `GET /api/v1/messages/:eventId` can tell a duplicate (another event of the
 * same bot, room and message id owns the outbox row) from one still pending.
 */
export class Migration20261126000001_ingress_message_ref extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table kb_ingress_events add column channel_id text, add column log_id text;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table kb_ingress_events drop column channel_id, drop column log_id;`);
  }
}
