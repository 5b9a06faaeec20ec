import { parseCoreConfig } from '../config.js';
import { ensureDatabase } from './ensure-database.js';
import { migrate } from './orm.js';

const cfg = parseCoreConfig();
const created = await ensureDatabase(cfg.databaseUrl);
if (created) console.log('데이터베이스를 만들었습니다 / created database');
const applied = await migrate(cfg.databaseUrl);
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema up to date');
