import { Migration20261125000001_init } from './Migration20261125000001_init.js';

/** Every migration in order. Listed explicitly so tsx, vitest and bundles find the same set. */
export const migrationsList = [{ name: 'Migration20261125000001_init', class: Migration20261125000001_init }];
