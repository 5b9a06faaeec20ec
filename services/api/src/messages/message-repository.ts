import { Bot, IngressEvent, Plan, Tenant } from '../db/entities/index.js';
import type { Orm } from '../db/em.js';

/** The ingress row (tenant check) with the dispatcher's outbox row; a relayed message whose log id another event already claimed is a duplicate. */
export const OUTCOME_SQL = `
  select o.status, o.reply,
         (o.event_id is null and e.log_id is not null and exists (
            select 1 from kb_outbox d
             where d.bot_id = e.bot_id and d.channel_id = e.channel_id and d.log_id = e.log_id
               and d.event_id <> e.event_id)) as duplicate
    from kb_ingress_events e left join kb_outbox o on o.event_id = e.event_id
   where e.event_id = ? and e.tenant_id = ?`;

export interface OutcomeRow {
  status: string | null;
  reply: Record<string, unknown> | null;
  duplicate: boolean;
}

/**
 * What `POST /messages` reads and writes: the bot a message names, the
 * ingress rows (`kb_ingress_events`, which tenant an event is) and the
 * outcome in the dispatcher's outbox. By tenant id, but `botNamed`: a bot's
 * name is unique across tenants, and naming another tenant's bot is
 * refused as forbidden, not as not found.
 */
export class MessageRepository {
  constructor(private readonly orm: Orm) {}

  /** Across every tenant: the bot of that name (the caller checks whose it is). */
  botNamed(name: string): Promise<Bot | null> {
    return this.orm.em.fork().findOne(Bot, { name });
  }

  async recordIngress(tenantId: string, e: { eventId: string; botId: string; channelId: string; logId: string | null }): Promise<void> {
    const em = this.orm.em.fork();
    em.create(IngressEvent, { ...e, tenantId, createdAt: new Date() });
    await em.flush();
  }

  /** An event that was never published: the caller must not poll it forever as pending. */
  async forgetIngress(tenantId: string, eventId: string): Promise<void> {
    await this.orm.em.fork().nativeDelete(IngressEvent, { eventId, tenantId });
  }

  /** Undefined when the tenant has no such event. */
  async outcome(tenantId: string, eventId: string): Promise<OutcomeRow | undefined> {
    const rows: OutcomeRow[] = await this.orm.em.fork().execute(OUTCOME_SQL, [eventId, tenantId]);
    return rows[0];
  }

  /** The plan's longest command timeout. */
  async timeoutMaxMs(tenantId: string): Promise<number> {
    const em = this.orm.em.fork();
    const tenant = await em.findOneOrFail(Tenant, { id: tenantId });
    return (await em.findOneOrFail(Plan, { id: tenant.planId })).timeoutMaxMs;
  }
}
