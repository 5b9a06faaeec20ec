export * from './pool.js';
export * from './ensure-database.js';
export * from './orm.js';
