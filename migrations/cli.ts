import { ensureDatabase, parseCoreConfig } from '@domaeka/core';
import { migrate } from './migrate.js';

const cfg = parseCoreConfig();
const created = await ensureDatabase(cfg.databaseUrl);
if (created) console.log('데이터베이스를 만들었습니다 / created database');
const applied = await migrate(cfg.databaseUrl);
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema up to date');
