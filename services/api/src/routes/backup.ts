import type { FastifyInstance } from 'fastify';
import { callerOf } from '../http/auth.js';
import { ExportFile } from '../backup/backup-format.js';
import type { RouteDeps } from './deps.js';

/** An export file of a tenant with its tables' rows: room for 20 MB. */
const IMPORT_BODY_LIMIT = 20 * 1024 * 1024;

/**
 * The tenant's backup (issue 15 item 6): `GET /export` downloads one JSON
 * file of everything it made (secrets by name only), `POST /import` reads
 * it into an EMPTY account. Tenant-scoped, session or API key.
 */
export async function backupRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get(
    '/export',
    { schema: { summary: '계정 내보내기: 명령어(버전 포함), 일정, 저장소, 표, 비밀 값 이름을 JSON 파일 하나로 / the tenant export file' } },
    async (req, reply) => {
      const file = await services().exports.export(callerOf(req));
      const date = file.exportedAt.slice(0, 10);
      const name = `domaeka-${file.tenant.name}-${date}.json`;
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="domaeka-export-${date}.json"; filename*=UTF-8''${encodeURIComponent(name)}`)
        .send(JSON.stringify(file));
    },
  );
  app.post<{ Body: ExportFile }>(
    '/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        summary: '내보내기 파일을 빈 계정으로 가져오기 (명령어, 표, 저장소 키가 없는 계정만; 한도 초과면 아무것도 가져오지 않음) / import an export file into an empty account',
        body: ExportFile,
      },
    },
    async (req, reply) => reply.code(201).send(await services().restores.import(callerOf(req), req.body)),
  );
}
