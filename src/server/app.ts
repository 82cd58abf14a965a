/**
 * The tracking server as a Fastify app (not listening; see server.ts): MLflow REST 2.0 routes from
 * the route table, artifact upload/download/list, /health, /openapi.json, optional bearer auth.
 * Every error leaves through one handler as MLflow's `{"error_code", "message"}`.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { KeelError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { ArtifactStore, TrackingStore } from '../track/index.js';
import {
  ARTIFACTS,
  downloadArtifact,
  listDir,
  resolveProxyPath,
  safeArtifactPath,
  uploadArtifact,
} from './artifact-routes.js';
import { authenticator, type Token } from './auth.js';
import { JsonText } from './convert.js';
import { ApiError, toApiError } from './errors.js';
import { describeIssues, mlflowRoutes } from './mlflow-routes.js';
import { openApiDocument } from './openapi.js';
import { decodeNumbers, encodeNumbers, RPC, STORE_METHODS } from './rpc.js';

export interface TrackingAppOptions {
  store: TrackingStore;
  artifacts: ArtifactStore;
  /** Bearer tokens; none = no auth. */
  tokens?: Token[];
  logger?: Logger;
  /** Largest JSON body in bytes (default 64 MiB: a log-batch of 100k points is ~8 MB). */
  bodyLimit?: number;
  /** Largest artifact upload in bytes (default 1 GiB). */
  artifactLimit?: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    write?: boolean;
  }
  interface FastifyRequest {
    actor: string;
  }
}

const VERSION = '0.1.0';

/** Store methods that write the audit log, and the index of their options argument (with actor). */
const AUDITED: Record<string, number> = {
  createModelVersion: 0,
  createRegisteredModel: 1,
  setAlias: 3,
  deleteAlias: 2,
  transitionModelVersionStage: 3,
};

export function createTrackingApp(options: TrackingAppOptions): FastifyInstance {
  const { store, artifacts } = options;
  const log = options.logger ?? silentLogger;
  const auth = authenticator(options.tokens ?? []);
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 64 * 1024 * 1024,
    return503OnClosing: true,
  });
  app.decorateRequest('actor', 'api');
  app.removeContentTypeParser('text/plain'); // JSON for the API, octet-stream for artifacts; else 415
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: options.artifactLimit ?? 2 ** 30 },
    (_req, body, done) => done(null, body),
  );
  // with auth on, every request but /health needs a token, and a write route a write token
  app.addHook('onRequest', async (req) => {
    if (!auth || req.url === '/health') return;
    req.actor = auth(req.headers.authorization, req.routeOptions.config?.write ?? false);
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
      const f = err as FastifyError;
      const msg =
        f.statusCode === 413
          ? 'request body is too large'
          : f.statusCode === 415
            ? 'send JSON (Content-Type: application/json), or application/octet-stream for artifacts'
            : f.message;
      e = new ApiError('BAD_REQUEST', msg, f.statusCode);
    } else e = toApiError(err);
    if (e.status >= 500) log.error({ err, url: req.url }, 'tracking request failed');
    const keel =
      err instanceof KeelError && e.status < 500
        ? { keel_code: err.code, ...(err.details === undefined ? {} : { keel_details: err.details }) }
        : {};
    return reply.status(e.status).send({ error_code: e.errorCode, message: e.message, ...keel });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error_code: 'ENDPOINT_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  // GET parameters come in the query string; POST and DELETE carry a JSON body (either is read)
  const input = (req: FastifyRequest) => ({
    ...((req.query as object | undefined) ?? {}),
    ...(req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? (req.body as object) : {}),
  });

  for (const r of mlflowRoutes) {
    app.route({
      method: r.method,
      url: r.path,
      config: { write: r.write },
      handler: async (req, reply) => {
        let data: unknown;
        if (r.parse) {
          const fast = r.parse(input(req));
          if (!fast.success) throw new ApiError('INVALID_PARAMETER_VALUE', fast.message);
          data = fast.data;
        } else {
          const parsed = r.input.safeParse(input(req));
          if (!parsed.success) throw new ApiError('INVALID_PARAMETER_VALUE', describeIssues(parsed.error));
          data = parsed.data;
        }
        const out = await r.handler(data, { store, actor: req.actor });
        return out instanceof JsonText ? reply.type('application/json; charset=utf-8').send(out.text) : out;
      },
    });
  }

  // ---- Keel's store protocol (the HTTP client's) ----
  for (const [method, { write }] of Object.entries(STORE_METHODS)) {
    app.post(`${RPC}/${method}`, { config: { write } }, async (req, reply) => {
      const args = (req.body as { args?: unknown } | undefined)?.args ?? [];
      if (!Array.isArray(args) || args.length > 5)
        throw new ApiError(
          'INVALID_PARAMETER_VALUE',
          'send {"args": [...]}: the arguments of the store method',
        );
      // with auth on, the audit log names the token's owner, whatever actor the caller wrote
      const at = AUDITED[method];
      if (options.tokens?.length && at !== undefined)
        args[at] = { ...((args[at] as object | undefined) ?? {}), actor: req.actor };
      const fn = (store as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
      const result = await fn.apply(store, decodeNumbers(args) as unknown[]);
      const text = result === undefined ? '{}' : JSON.stringify({ result }, encodeNumbers);
      return reply.type('application/json; charset=utf-8').send(text);
    });
  }

  // ---- artifacts ----
  const wildcard = (req: FastifyRequest) => (req.params as { '*': string })['*'];
  app.put(`${ARTIFACTS}/*`, { config: { write: true } }, async (req) => {
    if (!Buffer.isBuffer(req.body))
      throw new ApiError('BAD_REQUEST', 'send the file as Content-Type: application/octet-stream');
    await uploadArtifact(store, artifacts, wildcard(req), req.body);
    return {};
  });
  app.get(`${ARTIFACTS}/*`, async (req, reply) => {
    const bytes = await downloadArtifact(store, artifacts, wildcard(req));
    return reply.type('application/octet-stream').send(bytes);
  });
  app.get(ARTIFACTS, async (req) => {
    const path = (req.query as { path?: string }).path ?? '';
    const { run, path: dir } = await resolveProxyPath(store, path, true);
    return { files: listDir(run, dir, 'dir') };
  });
  app.get('/api/2.0/mlflow/artifacts/list', async (req) => {
    const q = req.query as { run_id?: string; run_uuid?: string; path?: string };
    const id = q.run_id ?? q.run_uuid;
    if (!id) throw new ApiError('INVALID_PARAMETER_VALUE', "missing value for required parameter 'run_id'");
    const run = await store.getRun(id);
    const dir = safeArtifactPath(q.path ?? '', true);
    return {
      root_uri: `mlflow-artifacts:/${run.experimentId}/${run.id}/artifacts`,
      files: listDir(run, dir, 'root'),
    };
  });

  app.get('/health', async () => ({ status: 'ok' }));
  const doc = openApiDocument(mlflowRoutes, VERSION);
  app.get('/openapi.json', async () => doc);
  return app;
}
