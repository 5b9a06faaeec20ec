import type { EgressView } from '@domaeka/broker/contracts';
import type { Caller } from '../accounts/caller.js';
import type { ChangeNotifier } from '../bus/change-notifier.js';
import { checkEgressDomains } from './egress-rules.js';
import type { Orm } from '../db/em.js';
import { EgressRepository, type StoredEgress } from './egress-repository.js';

/**
 * The tenant's egress domain allowlist (`kb_egress_domains`). Editable on
 * every plan, so a tenant can prepare it before moving to a paid one; only
 * the plan decides whether sandbox code gets network (`enabled`). Every
 * save tells the dispatcher's cache (`changed` {entity:'egress'}).
 */
export class EgressService {
  private readonly allowlists: EgressRepository;

  constructor(
    orm: Orm,
    private readonly notifier: ChangeNotifier,
  ) {
    this.allowlists = new EgressRepository(orm);
  }

  async view(caller: Caller): Promise<EgressView> {
    return viewOf(await this.allowlists.get(caller.tenantId));
  }

  /** Replaces the whole list (the request is the list the tenant wants); returns it as stored. */
  async replace(caller: Caller, entries: readonly string[]): Promise<EgressView> {
    const domains = checkEgressDomains(entries);
    const view = viewOf(await this.allowlists.replace(caller.tenantId, domains));
    this.notifier.changed('egress', caller.tenantId, null);
    return view;
  }
}

function viewOf(e: StoredEgress): EgressView {
  return { enabled: e.plan.network === 'allowlist', plan: e.plan.id, domains: e.domains };
}
