import type { ApiServer } from '../../services/api/src/app.js';

/**
 * Every `/api/v1` route, read from the API's own OpenAPI document (made from
 * the schemas the routes validate with), so the tests that walk "every
 * route" cover a route the day it is added, or fail saying it is unknown.
 */
export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** OpenAPI form without the prefix: `/commands/{id}/rollback`. */
  path: string;
  pathParams: string[];
  /** Each path parameter's schema (ids carry `x-kb-id`, see `isIdSchema`). */
  pathSchemas: Record<string, Schema>;
  query: { name: string; required: boolean; schema: Schema }[];
  body: Schema | null;
  /** Needs no caller (signup, login, logout). */
  isPublic: boolean;
}

export type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  minProperties?: number;
  nullable?: boolean;
  pattern?: string;
  additionalProperties?: boolean | Schema;
  /** An id parsed strictly by the API (services/api/src/http/ids.ts): `bigint` (decimal) or `uuid`. */
  'x-kb-id'?: 'bigint' | 'uuid';
};

type Operation = {
  parameters?: { name: string; in: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  security?: unknown[];
};

export async function apiRoutes(api: ApiServer): Promise<RouteSpec[]> {
  const res = await api.app.inject({ method: 'GET', url: '/api/docs/json' });
  const doc = res.json() as { paths: Record<string, Record<string, Operation>> };
  const routes: RouteSpec[] = [];
  for (const [full, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = op.parameters ?? [];
      routes.push({
        method: method.toUpperCase() as RouteSpec['method'],
        path: full.replace(/^\/api\/v1/, ''),
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        pathSchemas: Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, { ...p.schema, ...idMark(p.name, p.schema) }])),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: p.required === true, schema: { ...p.schema, ...idMark(p.name, p.schema) } })),
        body: op.requestBody?.content['application/json']?.schema ?? null,
        isPublic: Array.isArray(op.security) && op.security.length === 0,
      });
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/**
 * Which kind of id a parameter is, for the sweeps that send bad ids to every
 * route: the API marks its id schemas `x-kb-id`; an integer named like an id
 * (`id`, `...Id`, the `before` cursor) or a `uuid` string counts too, so a
 * route that forgot the shared id schema is still walked (and fails there).
 */
export function isIdSchema(schema: Schema): 'bigint' | 'uuid' | null {
  return schema['x-kb-id'] ?? null;
}

function idMark(name: string, schema: Schema): Pick<Schema, 'x-kb-id'> {
  if (schema['x-kb-id']) return {};
  if (schema.format === 'uuid') return { 'x-kb-id': 'uuid' };
  if (schema.type === 'integer' && (name === 'id' || name === 'before' || /Id$/.test(name))) return { 'x-kb-id': 'bigint' };
  return {};
}

export const routeName = (r: RouteSpec) => `${r.method} ${r.path}`;

/** The path with its `{name}` parameters filled in (URL-encoded). */
export function fillPath(path: string, values: Record<string, string | number>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for path parameter ${name} in ${path}`);
    return encodeURIComponent(String(v));
  });
}

/** A small value the schema accepts: the required fields only, the first branch of a union. */
export function sampleOf(schema: Schema, depth = 0): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches?.length) return sampleOf(branches.find((b) => b.type !== 'null') ?? branches[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = schema.properties ?? {};
      const wanted = new Set(schema.required ?? []);
      // A PATCH body needs at least one field: take the first simple one.
      if (wanted.size === 0 && (schema.minProperties ?? 0) > 0) {
        const simple = Object.entries(props).find(([, p]) => ['string', 'boolean', 'integer'].includes(String(p.type)));
        if (simple) wanted.add(simple[0]);
      }
      for (const name of wanted) if (props[name]) out[name] = sampleOf(props[name], depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => sampleOf(schema.items ?? {}, depth + 1));
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, 1);
    case 'boolean':
      return true;
    case 'string':
      return sampleString(schema);
    default:
      return null;
  }
}

function sampleString(s: Schema): string {
  switch (s.format) {
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    case 'date-time':
      return new Date().toISOString();
    case 'email':
      return 'sample@shop.example';
    case 'uri':
      return 'http://127.0.0.1:9/sample';
  }
  const text = 'sample';
  const min = s.minLength ?? 1;
  return text.length >= min ? text.slice(0, Math.max(min, Math.min(text.length, s.maxLength ?? text.length))) : text.padEnd(min, 'x');
}

/** A value of a type the field does not take (for the hostile-input sweep). */
export function wrongTypeFor(schema: Schema): unknown {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === 'string' || schema.const !== undefined || schema.enum) return { not: 'a string' };
  if (type === 'integer' || type === 'number') return 'twelve';
  if (type === 'boolean') return 'yes';
  if (type === 'array') return 'not-a-list';
  return 12345;
}
