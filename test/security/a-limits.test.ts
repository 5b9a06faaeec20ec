import { MEMORY, OUTPUT, PIDS, TIMEOUTS } from './programs/limits.js';
import { securitySuite } from './harness.js';

/** Timeouts, memory, pids and output floods (the slow rows: each timeout waits ~1.5 s). */
securitySuite('limits', [...TIMEOUTS, ...MEMORY, ...PIDS, ...OUTPUT]);
