import { NETWORK, PRIVILEGES } from './programs/privileges-network.js';
import { securitySuite } from './harness.js';

/** Privilege gains and network reach. */
securitySuite('priv-net', [...PRIVILEGES, ...NETWORK]);
