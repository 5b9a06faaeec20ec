export * from './pool.js';
export * from './ensure-database.js';
