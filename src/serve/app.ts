/**
 * The prediction server as a Fastify app (not listening; see server.ts). Requests are validated
 * against the model's signature; every error leaves through one handler as JSON
 * `{ error: { code, message, fields? } }` with a 4xx status for bad input: never a stack trace,
 * never a 500 for anything a client sent.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { type ErrorCode, KeelError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { type FieldError, recordsToFrame } from '../data/records.js';
import type { ModelHost } from './model-host.js';

export interface AppOptions {
  models: ModelHost;
  logger?: Logger;
  /** Largest request body in bytes (default 1 MiB); larger gets a 413. */
  bodyLimit?: number;
  /** Largest batch in records (default 10,000). */
  maxBatch?: number;
  /** Also export Node process metrics (default true). */
  processMetrics?: boolean;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  KEEL_E_INPUT: 400,
  KEEL_E_USAGE: 400,
  KEEL_E_NOT_FOUND: 404,
};

/**
 * Body conventions for POST /v1/models/:name/predict:
 *   one record          {"tenure": 3, ...}               → {"model", "version", "predictions": [one]}
 *   a batch             [{...}, {...}]                   → {"model", "version", "predictions": [...]}
 *   a wrapped batch     {"records": [{...}, {...}]}      → same as a batch
 */
export function createApp(options: AppOptions): FastifyInstance {
  const host = options.models;
  const maxBatch = options.maxBatch ?? 10_000;
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'keel_' });
  const requests = new Counter({
    name: 'keel_predict_requests_total',
    help: 'Prediction requests by model, version and HTTP status',
    labelNames: ['model', 'version', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'keel_predict_duration_seconds',
    help: 'Prediction request latency by model and version',
    labelNames: ['model', 'version'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const predictions = new Counter({
    name: 'keel_predictions_total',
    help: 'Rows scored by model, version and predicted label',
    labelNames: ['model', 'version', 'label'] as const,
    registers: [registry],
  });
  const validationFailures = new Counter({
    name: 'keel_validation_failures_total',
    help: 'Requests rejected by input validation, by model and field',
    labelNames: ['model', 'field'] as const,
    registers: [registry],
  });

  // Metric children per (model, version), so the hot path does not hash label sets per request.
  const children = new Map<string, ReturnType<typeof makeChildren>>();
  const makeChildren = (model: string, version: string, classes: readonly string[]) => ({
    ok: requests.labels(model, version, '200'),
    latency: latency.labels(model, version),
    negative: predictions.labels(model, version, classes[0]),
    positive: predictions.labels(model, version, classes[1]),
  });
  const metricsFor = (model: string, version: string, classes: readonly string[]) => {
    const key = `${model}\u0000${version}`;
    let c = children.get(key);
    if (!c) children.set(key, (c = makeChildren(model, version, classes)));
    return c;
  };

  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 1_048_576, return503OnClosing: true });
  const log = options.logger ?? silentLogger;
  // JSON only: any other content type gets a 415 instead of being read as text
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: FastifyError | KeelError, req, reply) => {
    if (err instanceof KeelError) {
      const status = STATUS[err.code] ?? 500;
      if (status >= 500) log.error({ err, url: req.url }, 'request failed');
      return reply.status(status).send({
        error: {
          code: err.code,
          message: status >= 500 ? 'internal error' : err.message,
          ...(err.details ? { fields: err.details } : {}),
        },
      });
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      log.error({ err, url: req.url }, 'request failed');
      return reply.status(500).send({ error: { code: 'KEEL_E_INTERNAL', message: 'internal error' } });
    }
    const code =
      status === 413
        ? 'KEEL_E_BODY_TOO_LARGE'
        : status === 415
          ? 'KEEL_E_UNSUPPORTED_MEDIA_TYPE'
          : err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'KEEL_E_INVALID_JSON'
            : 'KEEL_E_BAD_REQUEST';
    const message =
      status === 413
        ? `request body is larger than ${options.bodyLimit ?? 1_048_576} bytes`
        : status === 415
          ? 'send JSON: Content-Type: application/json'
          : err.message;
    return reply.status(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'KEEL_E_NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  );

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) =>
    host.size > 0
      ? { status: 'ready', models: host.size }
      : reply.status(503).send({ status: 'not ready', reason: 'no model loaded' }),
  );
  app.get('/v1/models', async () => ({
    models: host.list().map((m) => ({
      name: m.name,
      version: m.version,
      alias: m.alias,
      loadedAt: m.loadedAt,
      inputs: m.predictor.signature.inputs.map((i) => i.name),
    })),
  }));
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );

  app.post<{ Params: { name: string } }>('/v1/models/:name/predict', async (req, reply) => {
    const t0 = process.hrtime.bigint();
    const entry = host.get(req.params.name);
    if (!entry) {
      requests.inc({ model: req.params.name, version: 'none', status: '404' });
      throw new KeelError(
        'KEEL_E_NOT_FOUND',
        `model "${req.params.name}" is not served here (serving: ${
          host
            .list()
            .map((m) => m.name)
            .join(', ') || 'none'
        })`,
      );
    }
    const version = String(entry.version);
    const body = req.body as unknown;
    const records = Array.isArray(body)
      ? body
      : body && typeof body === 'object' && Array.isArray((body as { records?: unknown }).records)
        ? (body as { records: unknown[] }).records
        : [body];
    const reject = (message: string, fields?: FieldError[]) => {
      requests.inc({ model: entry.name, version, status: '400' });
      for (const f of fields ?? [])
        validationFailures.inc({ model: entry.name, field: f.field || '(record)' });
      return reply
        .status(400)
        .send({ error: { code: 'KEEL_E_INPUT', message, ...(fields ? { fields } : {}) } });
    };
    if (records.length === 0) return reject('send at least one record');
    if (records.length > maxBatch)
      return reject(`a batch holds at most ${maxBatch} records, got ${records.length}`);
    const { frame, errors } = recordsToFrame(records, entry.predictor.signature.inputs);
    if (!frame)
      return reject(`${errors.length} field error${errors.length === 1 ? '' : 's'} in the request`, errors);
    const { probability, label } = entry.predictor.predictFrame(frame);
    const out = new Array(probability.length);
    const m = metricsFor(entry.name, version, entry.predictor.signature.target.classes);
    let positives = 0;
    const pos = entry.predictor.signature.target.classes[1];
    for (let i = 0; i < probability.length; i++) {
      out[i] = { probability: probability[i], label: label[i] };
      if (label[i] === pos) positives++;
    }
    if (positives > 0) m.positive.inc(positives);
    if (positives < probability.length) m.negative.inc(probability.length - positives);
    m.ok.inc();
    m.latency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    return { model: entry.name, version: entry.version, predictions: out };
  });
  return app;
}
