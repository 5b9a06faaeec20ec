import { Migration } from '@mikro-orm/migrations';

/**
 * The single-use download links of a bot's pre-filled bridge script (issue
 * 16): the web app shows one as a QR code, the phone opens it once. The
 * link's token is the credential (it hands out the bot's key and salt), so
 * only its SHA-256 is stored, as `sessions` stores its cookie tokens.
 * `expires_at` is 10 minutes after creation. The one request that gets the
 * script deletes the row (a delete that also checks the expiry, so of two
 * requests racing one gets it). Rows go with their bot; expired ones are
 * deleted as new links are made (the index on `expires_at` serves that).
 */
export class Migration20261207000050_bridge_links extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kb_bridge_links (
        token_hash text primary key,
        tenant_id uuid not null references tenants(id) on delete cascade,
        bot_id uuid not null references bots(id) on delete cascade,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null
      );`);
    this.addSql(`create index kb_bridge_links_bot_idx on kb_bridge_links(bot_id);`);
    this.addSql(`create index kb_bridge_links_expires_idx on kb_bridge_links(expires_at);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table kb_bridge_links;`);
  }
}
