import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { apiErrors } from '../errors.js';
import { TEMPLATES, templateById, templateView } from '../commands/templates/catalog.js';
import type { RouteDeps } from './deps.js';

const TemplateParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

/** The Python template library (`src/templates/`): the same for every tenant, behind the auth hook like every route. */
export async function templateRoutes(app: FastifyInstance, _deps: RouteDeps): Promise<void> {
  app.get('/templates', async () => ({ items: TEMPLATES.map(templateView) }));
  app.get<{ Params: Static<typeof TemplateParams> }>('/templates/:id', { schema: { params: TemplateParams } }, async (req) => {
    const template = templateById(req.params.id);
    if (!template) throw apiErrors.notFound('template');
    return templateView(template);
  });
}
