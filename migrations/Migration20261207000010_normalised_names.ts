import { Migration } from '@mikro-orm/migrations';
// The one definition of the key (pure, no dependencies); imported by path since core depends on this package.
import { nameKey } from '../services/core/src/text/names.js';

/**
 * Look-alike bot names (issue 13, hole 8): `bots.name_key`, the name as
 * compared (NFKC, invisible characters dropped, whitespace runs as one
 * space, trimmed, case-folded: `nameKey` in services/core/src/text/names.ts),
 * unique. The API computes it for every new or renamed bot and refuses a
 * name whose key is taken (409 KB_ERR_BOT_NAME_TAKEN).
 *
 * Existing rows keep their names exactly: phones in the field send them as
 * registered, and the gateway still finds a bot by its exact name. The key
 * is computed here in JavaScript, by the same function (PostgreSQL's
 * lower()/normalize() depend on the server's locale and have no case
 * folding). Existing look-alikes: the oldest bot of each key (created_at,
 * then id) gets the key, the later ones keep a null key, so every phone
 * keeps reaching its bot and no one can register yet another look-alike
 * of that key; renaming such a bot gives it a key like any rename.
 */
export class Migration20261207000010_normalised_names extends Migration {
  override async up(): Promise<void> {
    await this.execute(`alter table bots add column name_key text;`);
    const rows = (await this.execute(`select id, name from bots order by created_at, id;`)) as { id: string; name: string }[];
    const taken = new Set<string>();
    for (const row of rows) {
      const key = nameKey(row.name);
      if (taken.has(key)) continue;
      taken.add(key);
      await this.execute(`update bots set name_key = ? where id = ?;`, [key, row.id]);
    }
    await this.execute(`alter table bots add constraint bots_name_key_key unique (name_key);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table bots drop column name_key;`);
  }
}
