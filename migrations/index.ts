import { Migration20261125000001_init } from './Migration20261125000001_init.js';
import { Migration20261126000001_ingress_message_ref } from './Migration20261126000001_ingress_message_ref.js';
import { Migration20261127000001_runs } from './Migration20261127000001_runs.js';
import { Migration20261128000001_tenant_secrets } from './Migration20261128000001_tenant_secrets.js';
import { Migration20261128000002_usage } from './Migration20261128000002_usage.js';
import { Migration20261205000002_dead_letters } from './Migration20261205000002_dead_letters.js';
import { Migration20261205000005_egress_domains } from './Migration20261205000005_egress_domains.js';
import { Migration20261207000001_fair_share } from './Migration20261207000001_fair_share.js';
import { Migration20261207000010_normalised_names } from './Migration20261207000010_normalised_names.js';
import { Migration20261207000020_store } from './Migration20261207000020_store.js';
import { Migration20261207000050_bridge_links } from './Migration20261207000050_bridge_links.js';
import { Migration20261208000060_version_restored_from } from './Migration20261208000060_version_restored_from.js';
import { Migration20261208000090_kakao_channel } from './Migration20261208000090_kakao_channel.js';
import { Migration20261208000120_error_reply } from './Migration20261208000120_error_reply.js';
import { Migration20261208000150_tenant_tables } from './Migration20261208000150_tenant_tables.js';
import { Migration20261208000200_schedules } from './Migration20261208000200_schedules.js';
import { Migration20261208000300_fixed_reply } from './Migration20261208000300_fixed_reply.js';
import { Migration20261208000500_sends } from './Migration20261208000500_sends.js';
import { Migration20261208000600_auth_attempts } from './Migration20261208000600_auth_attempts.js';

/** Every migration in order. Listed explicitly so tsx, vitest and bundles find the same set. */
export const migrationsList = [
  { name: 'Migration20261125000001_init', class: Migration20261125000001_init },
  { name: 'Migration20261126000001_ingress_message_ref', class: Migration20261126000001_ingress_message_ref },
  { name: 'Migration20261127000001_runs', class: Migration20261127000001_runs },
  { name: 'Migration20261128000001_tenant_secrets', class: Migration20261128000001_tenant_secrets },
  { name: 'Migration20261128000002_usage', class: Migration20261128000002_usage },
  { name: 'Migration20261205000002_dead_letters', class: Migration20261205000002_dead_letters },
  { name: 'Migration20261205000005_egress_domains', class: Migration20261205000005_egress_domains },
  { name: 'Migration20261207000001_fair_share', class: Migration20261207000001_fair_share },
  { name: 'Migration20261207000010_normalised_names', class: Migration20261207000010_normalised_names },
  { name: 'Migration20261207000020_store', class: Migration20261207000020_store },
  { name: 'Migration20261207000050_bridge_links', class: Migration20261207000050_bridge_links },
  { name: 'Migration20261208000060_version_restored_from', class: Migration20261208000060_version_restored_from },
  { name: 'Migration20261208000090_kakao_channel', class: Migration20261208000090_kakao_channel },
  { name: 'Migration20261208000120_error_reply', class: Migration20261208000120_error_reply },
  { name: 'Migration20261208000150_tenant_tables', class: Migration20261208000150_tenant_tables },
  { name: 'Migration20261208000200_schedules', class: Migration20261208000200_schedules },
  { name: 'Migration20261208000300_fixed_reply', class: Migration20261208000300_fixed_reply },
  { name: 'Migration20261208000500_sends', class: Migration20261208000500_sends },
  { name: 'Migration20261208000600_auth_attempts', class: Migration20261208000600_auth_attempts },
];
