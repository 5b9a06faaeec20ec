import { ESCAPES, EXITS, FORGING, RESULTS } from './programs/escapes-results.js';
import { securitySuite } from './harness.js';

/** Python escape tricks, invalid results, forged answers, exits and crashes. */
securitySuite('escapes-results', [...ESCAPES, ...RESULTS, ...FORGING, ...EXITS]);
