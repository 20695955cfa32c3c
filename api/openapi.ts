/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas (zod's own JSON Schema output), so
 * it cannot drift from what the server validates.
 */
import { z } from 'zod';
import { ErrorBody, type Route } from './http';

type Json = Record<string, unknown>;

const schemaOf = (s: z.ZodType, io: 'input' | 'output'): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Json;
  return rest;
};

function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
  if (!s) return [];
  const js = schemaOf(s, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => ({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema }));
}

export function openApiDocument(routes: ReadonlyArray<Route>, version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const error = { description: 'The error, naming each bad field', content: { 'application/json': { schema: schemaOf(ErrorBody, 'output') } } };
  for (const r of routes) {
    const op: Json = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${r.path.replace(/\/api\/v1/, '').replace(/\{(\w+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: {
        [String(r.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: schemaOf(r.response, 'output') } } },
        ...(r.public ? {} : { '401': error, '403': error }),
        '400': error,
        '404': error,
      },
      ...(r.public ? { security: [] } : {}),
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(r.body, 'input') } } };
    (paths[r.path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'trienkhai API',
      version,
      description: 'Track the rollout of a resolution down an organisation\'s hierarchy. Every request but /health and /openapi.json carries `Authorization: Bearer <token>` (issued by `trienkhai token issue`). Bad input is a 400 naming each field; nothing is recorded.',
    },
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
