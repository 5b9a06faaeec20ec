import { FILESYSTEM, INFO, NOT_THERE, SYMLINKS } from './programs/filesystem-info.js';
import { securitySuite } from './harness.js';

/** Writes, reads of secrets and host paths, what must not be there, planted symlinks. */
securitySuite('fs-info', [...FILESYSTEM, ...INFO, ...NOT_THERE, ...SYMLINKS]);
