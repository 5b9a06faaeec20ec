import { Migration } from '@mikro-orm/migrations';

/**
 * The key-value store tenant code uses (`from domaeka import store`, issue 15).
 *
 * - `plans`: the store's quotas per plan: keys (free 1,000, premium 100,000)
 *   and bytes of stored JSON (free 1 MiB, premium 100 MiB). They travel to
 *   the runner with each call (the call's profile).
 * - `kb_store`: one row per key of a tenant; `value` is the JSON the code
 *   stored, `bytes` the UTF-8 length of its compact text (what the quota
 *   counts), `expires_at` set by a TTL. An expired row reads as missing and
 *   is deleted lazily or by the runners' sweep (the partial index keeps the
 *   sweep's lookup small). `key` sorts bytewise (`collate "C"`), so
 *   `keys(prefix)` is a range of the primary key.
 * - `kb_store_usage`: each tenant's count of keys and bytes, kept exact by
 *   the functions below. Counting rows at every write would read up to
 *   100,000 rows per `set`.
 *
 * The writes are functions: each is one round trip from the runner and
 * one transaction, and every function that changes a tenant's rows first
 * locks the tenant's usage row, so one tenant's writes happen one at a
 * time (the counts stay exact under concurrent calls) and the locks are
 * always taken in the same order (usage row, then store rows: no
 * deadlock between writes and the sweep). Tenant input only ever arrives
 * as parameters.
 */
export class Migration20261207000020_store extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table plans add column store_max_keys integer not null default 1000;`);
    this.addSql(`alter table plans add column store_max_bytes bigint not null default 1048576;`);
    this.addSql(`update plans set store_max_keys = 100000, store_max_bytes = 104857600 where id = 'premium';`);
    this.addSql(`
      create table kb_store (
        tenant_id uuid not null references tenants(id) on delete cascade,
        key text collate "C" not null,
        value jsonb not null,
        bytes integer not null,
        expires_at timestamptz null,
        updated_at timestamptz not null default now(),
        constraint kb_store_pkey primary key (tenant_id, key)
      );`);
    this.addSql(`create index kb_store_expires_idx on kb_store(expires_at) where expires_at is not null;`);
    this.addSql(`
      create table kb_store_usage (
        tenant_id uuid not null references tenants(id) on delete cascade,
        keys integer not null default 0,
        bytes bigint not null default 0,
        constraint kb_store_usage_pkey primary key (tenant_id)
      );`);

    // The tenant's usage row, locked for this transaction (made on its first write).
    this.addSql(`
      create function kb_store_lock_usage(p_tenant uuid) returns kb_store_usage language plpgsql as $$
      declare
        u kb_store_usage;
      begin
        select * into u from kb_store_usage where tenant_id = p_tenant for update;
        if not found then
          insert into kb_store_usage (tenant_id) values (p_tenant) on conflict (tenant_id) do nothing;
          select * into u from kb_store_usage where tenant_id = p_tenant for update;
        end if;
        return u;
      end $$;`);

    // Deletes the tenant's expired keys; the caller holds the usage row. Returns how many went.
    this.addSql(`
      create function kb_store_drop_expired(p_tenant uuid) returns integer language plpgsql as $$
      declare
        n integer;
        b bigint;
      begin
        with gone as (delete from kb_store where tenant_id = p_tenant and expires_at <= now() returning bytes)
        select count(*), coalesce(sum(bytes), 0) into n, b from gone;
        if n > 0 then
          update kb_store_usage set keys = keys - n, bytes = bytes - b where tenant_id = p_tenant;
        end if;
        return n;
      end $$;`);

    // Stores a value under the quotas; the caller holds the usage row.
    // 'ok', or what is full: 'keys', 'bytes' (then nothing changed).
    this.addSql(`
      create function kb_store_put(p_tenant uuid, p_key text, p_value jsonb, p_bytes integer, p_expires_at timestamptz,
                                   p_max_keys integer, p_max_bytes bigint) returns text language plpgsql as $$
      declare
        u kb_store_usage;
        old_bytes integer;
        dk integer;
        db bigint;
      begin
        select * into u from kb_store_usage where tenant_id = p_tenant;
        select bytes into old_bytes from kb_store where tenant_id = p_tenant and key = p_key;
        dk := case when old_bytes is null then 1 else 0 end;
        db := p_bytes - coalesce(old_bytes, 0);
        if (dk > 0 and u.keys + dk > p_max_keys) or (db > 0 and u.bytes + db > p_max_bytes) then
          -- Expired keys count until they are swept: drop them, then look again.
          if kb_store_drop_expired(p_tenant) > 0 then
            select * into u from kb_store_usage where tenant_id = p_tenant;
            select bytes into old_bytes from kb_store where tenant_id = p_tenant and key = p_key;
            dk := case when old_bytes is null then 1 else 0 end;
            db := p_bytes - coalesce(old_bytes, 0);
          end if;
          if dk > 0 and u.keys + dk > p_max_keys then
            return 'keys';
          end if;
          if db > 0 and u.bytes + db > p_max_bytes then
            return 'bytes';
          end if;
        end if;
        insert into kb_store (tenant_id, key, value, bytes, expires_at, updated_at)
          values (p_tenant, p_key, p_value, p_bytes, p_expires_at, now())
          on conflict (tenant_id, key) do update
            set value = excluded.value, bytes = excluded.bytes, expires_at = excluded.expires_at, updated_at = excluded.updated_at;
        update kb_store_usage set keys = keys + dk, bytes = bytes + db where tenant_id = p_tenant;
        return 'ok';
      end $$;`);

    // store.set(key, value, ttl): 'ok', 'keys' or 'bytes'.
    this.addSql(`
      create function kb_store_set(p_tenant uuid, p_key text, p_value jsonb, p_bytes integer, p_ttl_ms bigint,
                                   p_max_keys integer, p_max_bytes bigint) returns text language plpgsql as $$
      begin
        perform kb_store_lock_usage(p_tenant);
        return kb_store_put(p_tenant, p_key, p_value, p_bytes,
                            case when p_ttl_ms is null then null else now() + p_ttl_ms * interval '1 millisecond' end,
                            p_max_keys, p_max_bytes);
      end $$;`);

    // store.incr(key, by): the new number (a missing or expired key counts from 0; a live key keeps its expiry).
    // status: 'ok', 'not_a_number', 'too_large', 'keys', 'bytes'.
    this.addSql(`
      create function kb_store_incr(p_tenant uuid, p_key text, p_by numeric, p_max_keys integer, p_max_bytes bigint,
                                    p_max_value integer, out status text, out value text) language plpgsql as $$
      declare
        cur_value jsonb;
        cur_expires timestamptz;
        next_value jsonb;
        next_bytes integer;
      begin
        perform kb_store_lock_usage(p_tenant);
        select s.value, s.expires_at into cur_value, cur_expires
          from kb_store s where s.tenant_id = p_tenant and s.key = p_key;
        if found and (cur_expires is null or cur_expires > now()) then
          if jsonb_typeof(cur_value) <> 'number' then
            status := 'not_a_number';
            return;
          end if;
          next_value := to_jsonb(cur_value::numeric + p_by);
        else
          next_value := to_jsonb(p_by);
          cur_expires := null;
        end if;
        value := next_value::text;
        next_bytes := octet_length(value);
        if next_bytes > p_max_value then
          status := 'too_large';
          value := null;
          return;
        end if;
        status := kb_store_put(p_tenant, p_key, next_value, next_bytes, cur_expires, p_max_keys, p_max_bytes);
        if status <> 'ok' then
          value := null;
        end if;
      end $$;`);

    // store.delete(key): whether a live key was there (an expired one read as missing already).
    this.addSql(`
      create function kb_store_delete(p_tenant uuid, p_key text) returns boolean language plpgsql as $$
      declare
        b integer;
        e timestamptz;
      begin
        perform 1 from kb_store_usage where tenant_id = p_tenant for update;
        if not found then
          return false;
        end if;
        delete from kb_store where tenant_id = p_tenant and key = p_key returning bytes, expires_at into b, e;
        if not found then
          return false;
        end if;
        update kb_store_usage set keys = keys - 1, bytes = bytes - b where tenant_id = p_tenant;
        return e is null or e > now();
      end $$;`);

    // The sweep and the lazy delete: a tenant's expired keys, unless its writes hold the usage row
    // right now (skipped: the writer's own quota check or the next sweep gets them). -1 when skipped.
    this.addSql(`
      create function kb_store_purge(p_tenant uuid) returns integer language plpgsql as $$
      begin
        perform 1 from kb_store_usage where tenant_id = p_tenant for update skip locked;
        if not found then
          return -1;
        end if;
        return kb_store_drop_expired(p_tenant);
      end $$;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function kb_store_purge(uuid);`);
    this.addSql(`drop function kb_store_delete(uuid, text);`);
    this.addSql(`drop function kb_store_incr(uuid, text, numeric, integer, bigint, integer);`);
    this.addSql(`drop function kb_store_set(uuid, text, jsonb, integer, bigint, integer, bigint);`);
    this.addSql(`drop function kb_store_put(uuid, text, jsonb, integer, timestamptz, integer, bigint);`);
    this.addSql(`drop function kb_store_drop_expired(uuid);`);
    this.addSql(`drop function kb_store_lock_usage(uuid);`);
    this.addSql(`drop table kb_store_usage;`);
    this.addSql(`drop table kb_store;`);
    this.addSql(`alter table plans drop column store_max_keys, drop column store_max_bytes;`);
  }
}
