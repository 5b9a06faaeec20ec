import { Migration20261125000001_init } from './Migration20261125000001_init.js';
import { Migration20261126000001_ingress_message_ref } from './Migration20261126000001_ingress_message_ref.js';
import { Migration20261127000001_runs } from './Migration20261127000001_runs.js';

/** Every migration in order. Listed explicitly so tsx, vitest and bundles find the same set. */
export const migrationsList = [
  { name: 'Migration20261125000001_init', class: Migration20261125000001_init },
  { name: 'Migration20261126000001_ingress_message_ref', class: Migration20261126000001_ingress_message_ref },
  { name: 'Migration20261127000001_runs', class: Migration20261127000001_runs },
];
