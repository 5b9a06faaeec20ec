import { resolve } from 'node:path';
import { repoRoot } from '@domaeka/core';
import { backupPlatform } from './backup.js';
import { restoreDrill } from './drill.js';
import { restoreDatabase } from './restore.js';

/**
 * npm run backup -- [--out DIR] [--skip-broker]
 * npm run restore -- DIR --database-url postgres://.../new_database
 * npm run restore-drill -- DIR [--skip-broker]
 * (scripts/backup/README.md)
 */
const [command, ...rest] = process.argv.slice(2);
const flag = (name: string) => rest.includes(name);
const option = (name: string) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
/** Options that take a value: the word after them is not the backup directory. */
const VALUED = new Set(['--out', '--database-url']);
const positional = rest.find((a, i) => !a.startsWith('--') && !VALUED.has(rest[i - 1] ?? ''));
const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/domaeka';
const brokerPrefix = process.env.KB_BROKER_PREFIX ?? 'kb';

async function main(): Promise<number> {
  if (command === 'backup') {
    const outDir = resolve(option('--out') ?? resolve(repoRoot, '.data/backups', new Date().toISOString().replace(/[:.]/g, '-')));
    const m = await backupPlatform({
      databaseUrl,
      outDir,
      skipBroker: flag('--skip-broker'),
      brokerPrefix,
      secretsKeyPath: process.env.SECRETS_KEY ? null : process.env.SECRETS_KEY_FILE || resolve(repoRoot, '.data/secrets.key'),
    });
    const rows = Object.values(m.inventory.tables).reduce((a, b) => a + b, 0);
    console.log(`✅ 백업 완료 / backup written: ${outDir}`);
    console.log(`   데이터베이스 ${m.database.name}: 테이블 ${Object.keys(m.inventory.tables).length}개, 행 ${rows}개, 테넌트 스키마 ${m.inventory.tenantSchemas.length}개`);
    console.log(`   브로커 / broker: ${m.broker ? `큐 ${m.broker.queues}개 (플랫폼 ${m.broker.prefixQueues}개)` : '건너뜀 / skipped'}`);
    console.log(`   비밀 키 / secrets key: ${m.secretsKey ? '포함 (따로 안전하게 보관하세요) / included: keep this directory secret' : 'SECRETS_KEY 환경 변수의 키를 따로 보관하세요 / keep SECRETS_KEY yourself'}`);
    return 0;
  }
  if (command === 'restore') {
    const target = option('--database-url');
    if (!positional || !target) throw new Error('usage: npm run restore -- <backup dir> --database-url postgres://.../<new database>');
    const r = await restoreDatabase(resolve(positional), target);
    if (r.differences.length) {
      console.error(`❌ 복원했지만 백업과 다릅니다 / restored, but it differs from the backup:\n  ${r.differences.join('\n  ')}`);
      return 1;
    }
    console.log(`✅ 복원 완료 / restored into ${new URL(target).pathname.slice(1)}: 모든 테이블의 행 수가 백업과 같습니다 / every table's rows match the backup`);
    console.log('   다음: npm run migrate (새 버전이면), 브로커 정의는 서비스가 시작할 때 다시 만듭니다 / next: migrate; the services assert the broker topology at start');
    return 0;
  }
  if (command === 'restore-drill') {
    if (!positional) throw new Error('usage: npm run restore-drill -- <backup dir> [--skip-broker]');
    const report = await restoreDrill(resolve(positional), databaseUrl, { brokerPrefix, skipBroker: flag('--skip-broker') });
    console.log(JSON.stringify(report, null, 2));
    console.log(report.ok ? '✅ 복원 훈련 성공 / restore drill passed' : '❌ 복원 훈련 실패 / restore drill FAILED');
    return report.ok ? 0 : 1;
  }
  throw new Error('usage: tsx scripts/backup/cli.ts backup|restore|restore-drill ...');
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`❌ ${err.message}`);
    process.exit(1);
  },
);
