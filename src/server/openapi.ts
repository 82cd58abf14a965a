/** The OpenAPI 3.1 document of the tracking server, generated from the same route table and schemas. */
import { z } from 'zod';
import { ARTIFACTS } from './artifact-routes.js';
import type { Route } from './mlflow-routes.js';
import { STORE_METHODS } from './rpc.js';

const errorSchema = {
  type: 'object',
  required: ['error_code', 'message'],
  properties: {
    error_code: {
      type: 'string',
      enum: [
        'INVALID_PARAMETER_VALUE',
        'RESOURCE_DOES_NOT_EXIST',
        'RESOURCE_ALREADY_EXISTS',
        'BAD_REQUEST',
        'ENDPOINT_NOT_FOUND',
        'UNAUTHENTICATED',
        'PERMISSION_DENIED',
        'INTERNAL_ERROR',
      ],
    },
    message: { type: 'string' },
  },
};

const errors = {
  '400': {
    description: 'INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS or BAD_REQUEST',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '401': {
    description: 'UNAUTHENTICATED (auth on, no or bad token)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '403': {
    description: 'PERMISSION_DENIED (a read token on a write)',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '404': {
    description: 'RESOURCE_DOES_NOT_EXIST',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
};

export function openApiDocument(routes: Route[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const schema = z.toJSONSchema(r.input, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, unknown>;
      required?: string[];
      anyOf?: unknown;
    };
    const op: Record<string, unknown> = {
      summary: r.summary,
      operationId: `${r.method.toLowerCase()}_${r.path.split('/mlflow/')[1]?.replace(/[/-]/g, '_')}`,
      tags: [r.write ? 'write' : 'read'],
      responses: {
        '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
        ...errors,
      },
    };
    if (r.method === 'POST') op.requestBody = { required: true, content: { 'application/json': { schema } } };
    else
      op.parameters = Object.entries(schema.properties ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: schema.required?.includes(name) ?? false,
        schema: s,
      }));
    paths[r.path] ??= {};
    paths[r.path][r.method.toLowerCase()] = op;
  }
  const artifactPath = {
    name: 'path',
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description: 'EXPERIMENT_ID/RUN_ID/artifacts/PATH',
  };
  paths[`${ARTIFACTS}/{path}`] = {
    put: {
      summary: "Upload one artifact file of a run (raw bytes); paths cannot leave the run's root",
      tags: ['write'],
      parameters: [artifactPath],
      requestBody: {
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      responses: { '200': { description: 'stored' }, ...errors },
    },
    get: {
      summary: 'Download one artifact file of a run',
      tags: ['read'],
      parameters: [artifactPath],
      responses: {
        '200': { description: 'the bytes', content: { 'application/octet-stream': {} } },
        ...errors,
      },
    },
  };
  paths[ARTIFACTS] = {
    get: {
      summary: 'List a directory of a run\'s artifacts: {"files": [{"path", "is_dir", "file_size"}]}',
      tags: ['read'],
      parameters: [{ ...artifactPath, in: 'query' }],
      responses: { '200': { description: 'the entries' }, ...errors },
    },
  };
  paths['/api/2.0/mlflow/artifacts/list'] = {
    get: {
      summary: "List a run's artifacts under path: {root_uri, files}",
      tags: ['read'],
      parameters: [
        { name: 'run_id', in: 'query', required: true, schema: { type: 'string' } },
        { name: 'path', in: 'query', required: false, schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'the entries' }, ...errors },
    },
  };
  paths['/api/2.0/keel/store/{method}'] = {
    post: {
      summary:
        "Keel's own client protocol: call one TrackingStore method with {args: [...]}, get {result}; errors add keel_code. Read methods need a read token, the others a write token.",
      tags: ['keel'],
      parameters: [
        {
          name: 'method',
          in: 'path',
          required: true,
          schema: { type: 'string', enum: Object.keys(STORE_METHODS) },
        },
      ],
      requestBody: {
        content: {
          'application/json': { schema: { type: 'object', properties: { args: { type: 'array' } } } },
        },
      },
      responses: { '200': { description: '{"result": ...}' }, ...errors },
    },
  };
  paths['/health'] = {
    get: {
      summary: 'Answers 200 once the store is open and migrated',
      responses: { '200': { description: 'ok' } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keel tracking server',
      version,
      description:
        "MLflow REST API 2.0 (tracking and registry subset) over Keel's tracking store. Errors are " +
        '{"error_code", "message"} as MLflow sends them. With auth on, send Authorization: Bearer TOKEN; writes need a write token.',
    },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }, {}],
  };
}
