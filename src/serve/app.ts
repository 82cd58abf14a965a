/**
 * The prediction server as a Fastify app (not listening; see server.ts). Requests are validated
 * against the model's signature; every error leaves through one handler as JSON
 * `{ error: { code, message, fields? } }` with a 4xx status for bad input: never a stack trace,
 * never a 500 for anything a client sent.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { type ErrorCode, KeelError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import { parseCsv } from '../data/csv.js';
import type { Frame } from '../data/frame.js';
import { columnsToFrame, type FieldError, recordsToFrame } from '../data/records.js';
import type { Predictor, Signature } from '../learn/types.js';
import { type FastBody, fastBodyFor } from './fast-body.js';
import type { HostedModel, ModelHost } from './model-host.js';
import type { PredictionLog } from './prediction-log.js';
import type { Canary, GuardVerdict } from './traffic.js';

export interface AppOptions {
  models: ModelHost;
  logger?: Logger;
  /** Largest request body in bytes (default 1 MiB); larger gets a 413. */
  bodyLimit?: number;
  /** Largest batch in records (default 10,000). */
  maxBatch?: number;
  /** Also export Node process metrics (default true). */
  processMetrics?: boolean;
  /** Append every scored record to this log (off the response path). */
  predictionLog?: PredictionLog;
  /**
   * API keys: when set, /v1/* needs `Authorization: Bearer KEY` or `X-API-Key: KEY` (401 otherwise);
   * /health, /ready, /metrics and /openapi.json stay open for probes and scrapers.
   */
  apiKeys?: readonly string[];
  /** Origins allowed by CORS (`*` for any); unset = no CORS headers. */
  corsOrigins?: readonly string[];
  /** At most `max` requests to /v1/* per client (API key, else IP address) per `windowMs` (429 beyond). */
  rateLimit?: { max: number; windowMs: number };
  /**
   * Answer single records the fast reader takes without going through Fastify (default true; off
   * whenever CORS, API keys or rate limits are configured). Only a listening server uses it.
   */
  hotRoute?: boolean;
  /** Called after a canary's guard tripped and routing to it stopped (e.g. to record it in the registry). */
  onCanaryRollback?: (name: string, canary: HostedModel, verdict: GuardVerdict) => Promise<void> | void;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  KEEL_E_INPUT: 400,
  KEEL_E_USAGE: 400,
  KEEL_E_PARSE: 400,
  KEEL_E_NOT_FOUND: 404,
};

/**
 * Body conventions for POST /v1/models/:name/predict:
 *   one record          {"tenure": 3, ...}               → {"model", "version", "predictions": [one]}
 *   a batch             [{...}, {...}]                   → {"model", "version", "predictions": [...]}
 *   a wrapped batch     {"records": [{...}, {...}]}      → same as a batch
 *   a columnar batch    {"columns": {"tenure": [3, 70], ...}} → same as a batch (one array per
 *                       input, all of one length; the fastest form for large batches)
 *   a CSV batch         Content-Type: text/csv, a header row then one row per record
 * Batches of 256+ rows are scored on the model's worker threads when it has them (gradient
 * boosting), so the event loop reads the next request meanwhile.
 */
export function createApp(options: AppOptions): FastifyInstance {
  const host = options.models;
  const maxBatch = options.maxBatch ?? 10_000;
  const registry = new Registry();
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'keel_' });
  // The hot path bumps plain numbers per (model, version) (a prom-client inc or observe hashes its
  // label set every time); each metric takes them in when scraped.
  const children = new Map<string, Children>();
  const requests = new Counter({
    name: 'keel_predict_requests_total',
    help: 'Prediction requests by model, version and HTTP status',
    labelNames: ['model', 'version', 'status'] as const,
    registers: [registry],
    collect() {
      for (const c of children.values())
        if (c.ok > 0) {
          this.inc({ model: c.model, version: c.version, status: '200' }, c.ok);
          c.ok = 0;
        }
    },
  });
  const latency = new LatencyHistogram(
    'keel_predict_duration_seconds',
    'Prediction request latency by model and version',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );
  registry.registerMetric(latency as unknown as Parameters<Registry['registerMetric']>[0]);
  // registered with the registry; the collect hook reads the per-(model, version) numbers
  new Counter({
    name: 'keel_predictions_total',
    help: 'Rows scored by model, version and predicted label',
    labelNames: ['model', 'version', 'label'] as const,
    registers: [registry],
    collect() {
      for (const c of children.values()) {
        if (c.negative > 0) this.inc({ model: c.model, version: c.version, label: c.classes[0] }, c.negative);
        if (c.positive > 0) this.inc({ model: c.model, version: c.version, label: c.classes[1] }, c.positive);
        c.negative = 0;
        c.positive = 0;
      }
    },
  });
  const validationFailures = counter(
    'keel_validation_failures_total',
    'Requests rejected by input validation, by model and field',
    ['model', 'field'] as const,
  );
  const metricsFor = (model: string, version: string, classes: readonly string[]): Children => {
    const key = `${model}\u0000${version}`;
    let c = children.get(key);
    if (!c) {
      c = {
        model,
        version,
        classes,
        ok: 0,
        negative: 0,
        positive: 0,
        latency: latency.series({ model, version }),
      };
      children.set(key, c);
    }
    return c;
  };

  const predictionLog = options.predictionLog;
  if (predictionLog) {
    let seen = 0;
    new Counter({
      name: 'keel_prediction_log_dropped_total',
      help: 'Prediction log rows dropped because the queue was full or the sink failed',
      registers: [registry],
      collect() {
        this.inc(predictionLog.dropped - seen);
        seen = predictionLog.dropped;
      },
    });
  }

  // request ids: the caller's X-Request-Id when it is sane, else a process prefix and a counter
  const idPrefix = randomBytes(4).toString('hex');
  let idCounter = 0;
  const genReqId = (req: IncomingMessage) => {
    const h = req.headers['x-request-id'];
    return typeof h === 'string' && h.length > 0 && h.length <= 128 && /^[\w.:-]+$/.test(h)
      ? h
      : `${idPrefix}-${(++idCounter).toString(36)}`;
  };
  // the hot route (see `hot` below) when no hook needs to see every request
  const hotRoute =
    (options.hotRoute ?? true) &&
    !(options.corsOrigins && options.corsOrigins.length > 0) &&
    !(options.apiKeys && options.apiKeys.length > 0) &&
    !options.rateLimit;
  let hot: ((req: IncomingMessage, res: ServerResponse, next: HttpHandler) => boolean) | null = null;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId,
    ...(hotRoute
      ? {
          // Fastify's own HTTP/1 server (as its getServerInstance makes it), one request handler in front
          serverFactory: (handler: HttpHandler, opts: Record<string, unknown>) => {
            const server = http.createServer((opts.http ?? {}) as http.ServerOptions, (req, res) => {
              if (!hot?.(req, res, handler)) handler(req, res);
            });
            server.keepAliveTimeout = opts.keepAliveTimeout as number;
            server.requestTimeout = opts.requestTimeout as number;
            server.setTimeout(opts.connectionTimeout as number);
            if ((opts.maxRequestsPerSocket as number) > 0)
              server.maxRequestsPerSocket = opts.maxRequestsPerSocket as number;
            return server;
          },
        }
      : {}),
  });
  const log = options.logger ?? silentLogger;
  if (options.corsOrigins && options.corsOrigins.length > 0) installCors(app, options.corsOrigins);
  if (options.apiKeys && options.apiKeys.length > 0) installApiKeys(app, options.apiKeys);
  if (options.rateLimit) installRateLimit(app, options.rateLimit);
  // JSON, or CSV for batches (a header row, then one record per line; a blank cell is missing);
  // any other content type gets a 415 instead of being read as text
  app.removeContentTypeParser('text/plain');
  // JSON bodies stay bytes until the route knows the model: its signature's fast reader
  // (fast-body.ts) reads them straight into a frame, else Fastify's own parser reads them
  // (the same errors, from the same code)
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    if ((body as Buffer).length === 0) jsonParser(req, '', done);
    else done(null, new RawJson(body as Buffer, req, jsonParser));
  });
  // CSV goes straight into one array per column (the columnar body), not one object per row
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => {
    try {
      const p = parseCsv(body as string, 'the request body');
      const n = p.rows.length;
      const columns: Record<string, (string | null)[]> = {};
      for (let k = 0; k < p.header.length; k++) {
        const values = new Array<string | null>(n);
        for (let i = 0; i < n; i++) {
          const cell = p.rows[i][k];
          values[i] = cell === '' ? null : cell;
        }
        columns[p.header[k]] = values;
      }
      done(null, n === 0 ? [] : { columns });
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((err: FastifyError | KeelError, req, reply) => {
    reply.header('x-request-id', req.id);
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
          ? 'send JSON (Content-Type: application/json) or a CSV batch (Content-Type: text/csv)'
          : err.message;
    return reply.status(status).send({ error: { code, message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .header('x-request-id', req.id)
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
  app.get('/openapi.json', async () => openApiDocument(host));
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );

  const shadowPredictions = counter(
    'keel_shadow_predictions_total',
    'Rows scored by a shadow model, by model, shadow version and whether its label agreed with the answer',
    ['model', 'version', 'agree'] as const,
  );
  const shadowErrors = counter(
    'keel_shadow_errors_total',
    'Shadow scorings that failed (never seen by clients)',
    ['model', 'version'] as const,
  );
  const canaryErrors = counter(
    'keel_canary_errors_total',
    'Canary scorings that failed; the request was answered by the primary version instead',
    ['model', 'version'] as const,
  );
  const canaryRollbacks = counter('keel_canary_rollbacks_total', 'Canaries rolled back by their guard', [
    'model',
    'version',
  ] as const);

  /** Record a canary outcome; on a breach stop routing to it and report the rollback. */
  const judgeCanary = (name: string, canary: Canary, ok: boolean, latencyMs: number) => {
    const verdict = canary.guard?.record(ok, latencyMs);
    if (!verdict) return;
    if (host.canary(name) === canary) host.clearCanary(name);
    canaryRollbacks.inc({ model: name, version: String(canary.entry.version) });
    log.warn(
      { model: name, version: canary.entry.version, ...verdict },
      `canary ${name} version ${canary.entry.version} rolled back: ${verdict.reason}`,
    );
    Promise.resolve(options.onCanaryRollback?.(name, canary.entry, verdict)).catch((e: unknown) =>
      log.error({ err: e }, `canary ${name}: recording the rollback failed`),
    );
  };

  /** Score with the shadow model after the answer went out; log it, count agreement. */
  const runShadow = (name: string, input: Input, labels: string[], requestId: string) => {
    const shadow = host.shadow(name);
    if (!shadow) return;
    setImmediate(() => {
      const v = String(shadow.version);
      try {
        const t = process.hrtime.bigint();
        const { frame } = toFrame(input, shadow.predictor.signature.inputs);
        if (!frame) throw new Error("the records do not fit the shadow model's signature");
        const r = shadow.predictor.predictFrame(frame);
        const latencyMs = Number(process.hrtime.bigint() - t) / 1e6;
        let agree = 0;
        for (let i = 0; i < r.label.length; i++) if (r.label[i] === labels[i]) agree++;
        if (agree > 0) shadowPredictions.inc({ model: name, version: v, agree: 'yes' }, agree);
        if (agree < r.label.length)
          shadowPredictions.inc({ model: name, version: v, agree: 'no' }, r.label.length - agree);
        if (predictionLog) {
          const ts = Date.now();
          for (let i = 0; i < r.label.length; i++)
            predictionLog.append({
              ts,
              requestId,
              model: name,
              version: shadow.version,
              role: 'shadow',
              input: recordAt(input, i),
              probability: r.probability[i],
              label: r.label[i],
              latencyMs,
            });
        }
      } catch (e) {
        shadowErrors.inc({ model: name, version: v });
        log.warn({ err: e, model: name, version: shadow.version }, 'shadow scoring failed');
      }
    });
  };

  // made once, not per request (a closure per request costs an allocation, and its name under tsx)
  const reject = (reply: FastifyReply, entry: HostedModel, message: string, fields?: FieldError[]) => {
    requests.inc({ model: entry.name, version: String(entry.version), status: '400' });
    for (const f of fields ?? []) validationFailures.inc({ model: entry.name, field: f.field || '(record)' });
    return reply
      .status(400)
      .send({ error: { code: 'KEEL_E_INPUT', message, ...(fields ? { fields } : {}) } });
  };
  /** A 400 listing the request's field errors. */
  const rejectFields = (reply: FastifyReply, entry: HostedModel, errors: FieldError[]) =>
    reject(
      reply,
      entry,
      `${errors.length} field error${errors.length === 1 ? '' : 's'} in the request`,
      errors,
    );

  app.post<{ Params: { name: string } }>('/v1/models/:name/predict', async (req, reply) => {
    const t0 = process.hrtime.bigint();
    // the request id on the answer (set here, not in a hook: hooks cost on every request)
    reply.header('x-request-id', req.id);
    const name = req.params.name;
    const rk = req.headers['x-keel-route-key'];
    const picked = host.pick(name, typeof rk === 'string' && rk.length > 0 ? rk : req.id);
    if (!picked) {
      // a body that is not JSON is answered as such first (as when it was parsed before the route ran)
      if (req.body instanceof RawJson) req.body.value();
      requests.inc({ model: name, version: 'none', status: '404' });
      throw new KeelError(
        'KEEL_E_NOT_FOUND',
        `model "${name}" is not served here (serving: ${
          host
            .list()
            .map((m) => m.name)
            .join(', ') || 'none'
        })`,
      );
    }
    let entry = picked.entry;
    const body = req.body;
    // the signature's fast reader when it takes the body; else the generic way (same frame or errors)
    let frame =
      body instanceof RawJson
        ? (fastBodyFor(entry.predictor.signature.inputs)?.read(body.bytes) ?? null)
        : null;
    let input: Input | null = null;
    let errors: FieldError[] = [];
    if (frame) {
      if (frame.nRows > maxBatch)
        return reject(reply, entry, `a batch holds at most ${maxBatch} records, got ${frame.nRows}`);
    } else {
      input = inputOf(body instanceof RawJson ? body.value() : body);
      const nRows = input.records ? input.records.length : columnRows(input.columns);
      if (nRows === 0) return reject(reply, entry, 'send at least one record');
      if (nRows > maxBatch)
        return reject(reply, entry, `a batch holds at most ${maxBatch} records, got ${nRows}`);
      ({ frame, errors } = toFrame(input, entry.predictor.signature.inputs));
      if (!frame) return rejectFields(reply, entry, errors);
    }
    let result: { probability: Float64Array; label: string[] };
    let role: 'primary' | 'canary' = 'primary';
    if (picked.canary) {
      const canary = picked.canary;
      try {
        const r = score(entry.predictor, frame);
        result = r instanceof Promise ? await r : r;
        role = 'canary';
        judgeCanary(name, canary, true, Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (e) {
        // the canary failed: answer from the primary, count it against the canary
        canaryErrors.inc({ model: name, version: String(entry.version) });
        log.warn(
          { err: e, model: name, version: entry.version },
          'canary scoring failed; answered by the primary',
        );
        judgeCanary(name, canary, false, Number(process.hrtime.bigint() - t0) / 1e6);
        const primary = host.get(name);
        if (!primary) throw e;
        entry = primary;
        ({ frame, errors } = toFrame((input ??= requestInput(body)), entry.predictor.signature.inputs));
        if (!frame) return rejectFields(reply, entry, errors);
        const r = score(entry.predictor, frame);
        result = r instanceof Promise ? await r : r;
      }
    } else {
      const r = score(entry.predictor, frame);
      result = r instanceof Promise ? await r : r;
    }
    const { probability, label } = result;
    const version = String(entry.version);
    const classes = entry.predictor.signature.target.classes;
    const m = metricsFor(entry.name, version, classes);
    const q = (req.query as { explain?: string } | undefined)?.explain;
    let out: Record<string, unknown>[] | null = null;
    if (q === 'true' || q === '1') {
      if (!entry.predictor.explain)
        return reject(
          reply,
          entry,
          `model ${entry.name} version ${entry.version} cannot explain its predictions`,
        );
      const ex = entry.predictor.explain(frame);
      const k = ex.inputs.length;
      out = new Array(probability.length);
      for (let i = 0; i < out.length; i++) {
        const contributions: Record<string, number> = {};
        for (let c = 0; c < k; c++) contributions[ex.inputs[c]] = ex.contributions[i * k + c];
        out[i] = {
          probability: probability[i],
          label: label[i],
          explanation: { base_value: ex.baseValue, output: ex.output, contributions },
        };
      }
    }
    countLabels(m, label, classes[1]);
    m.ok++;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    m.latency.observe(seconds);
    if (predictionLog) {
      const ts = Date.now();
      const latencyMs = seconds * 1000;
      for (let i = 0; i < probability.length; i++)
        predictionLog.append({
          ts,
          requestId: req.id,
          model: entry.name,
          version: entry.version,
          role,
          input: recordAt((input ??= requestInput(body)), i),
          probability: probability[i],
          label: label[i],
          latencyMs,
        });
    }
    if (host.shadow(name)) runShadow(name, (input ??= requestInput(body)), label, req.id);
    if (out) return { model: entry.name, version: entry.version, predictions: out };
    // what JSON.stringify would write for {model, version, predictions: [{probability, label}]},
    // without making the objects
    reply.type('application/json; charset=utf-8');
    return predictionsJson(entry.name, entry.version, probability, label, classes);
  });

  /**
   * The hot route: POST /v1/models/NAME/predict with a JSON body that the model's fast reader
   * takes (one record or a columnar batch: read once, not again by the route), answered on node's request and response objects without Fastify's per-request work
   * (request and reply objects, routing, parser lookup, promise, send pipeline). It writes what
   * the route would: the same status, headers (x-request-id, content-type, content-length, in
   * that order) and body, and counts the same metrics. It takes a request only when nothing else
   * could apply: no hooks configured (createApp turns it off with CORS, API keys or rate limits),
   * not closing, no query string, exactly `application/json` with a content-length within the
   * limit, a served model without canary or shadow, no prediction log. Once the body is in, any
   * other outcome (a batch over maxBatch, a body the fast reader leaves, an error) puts the bytes
   * back on the request and hands it to Fastify, which then reads it as if untouched.
   */
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const bodyLimit = options.bodyLimit ?? 1_048_576;
  hot = (req, res, next) => {
    if (closing || req.method !== 'POST' || predictionLog) return false;
    const m = HOT_URL.exec(req.url ?? '');
    if (!m) return false;
    const h = req.headers;
    if (h['content-type'] !== 'application/json' || h['transfer-encoding'] !== undefined) return false;
    const len = Number(h['content-length']);
    if (!(len > 0 && len <= bodyLimit)) return false;
    const name = m[1];
    const entry = host.get(name);
    if (!entry || host.canary(name) || host.shadow(name)) return false;
    const fast = fastBodyFor(entry.predictor.signature.inputs);
    if (!fast) return false;
    // the body's state on the request itself, read by listeners made once (not per request)
    (req as HotRequest)[HOT] = { chunks: [], got: 0, len, res, next, entry, fast };
    req.on('data', onHotData);
    req.on('error', onHotError);
    return true;
  };

  function onHotData(this: IncomingMessage, chunk: Buffer): void {
    const st = (this as HotRequest)[HOT]!;
    st.chunks.push(chunk);
    st.got += chunk.length;
    if (st.got < st.len) return;
    // the whole body is in (node's parser delivers exactly content-length bytes); 'end' is not
    // emitted while paused, so the bytes can still go back for Fastify
    this.pause();
    this.removeListener('data', onHotData);
    this.removeListener('error', onHotError);
    (this as HotRequest)[HOT] = null;
    const bytes = st.chunks.length === 1 ? st.chunks[0] : Buffer.concat(st.chunks, st.got);
    if (!answerHot(st.res, this, st.entry, st.fast, bytes, st.next)) {
      this.unshift(bytes);
      st.next(this, st.res);
    }
  }
  // a client gone mid-body: nothing to answer (node destroys the socket)
  function onHotError(this: IncomingMessage): void {
    this.removeListener('data', onHotData);
    (this as HotRequest)[HOT] = null;
  }

  /**
   * Score a body the fast reader takes (one record, or a columnar batch within maxBatch) and
   * answer; false (nothing written) when the route must handle it. A batch scored on the model's
   * worker threads is answered when they are done; should that fail, the request goes to the
   * route after all (`next`), which answers it as it would have.
   */
  const answerHot = (
    res: ServerResponse,
    req: IncomingMessage,
    entry: HostedModel,
    fast: FastBody,
    bytes: Buffer,
    next: HttpHandler,
  ): boolean => {
    const t0 = process.hrtime.bigint();
    const frame = fast.read(bytes);
    if (!frame || frame.nRows > maxBatch || host.get(entry.name) !== entry) return false;
    let result: ReturnType<typeof score>;
    try {
      result = score(entry.predictor, frame);
    } catch {
      return false;
    }
    if (!(result instanceof Promise)) {
      writeHot(res, req, entry, result, t0);
      return true;
    }
    result.then(
      (r) => writeHot(res, req, entry, r, t0),
      () => {
        req.unshift(bytes);
        next(req, res);
      },
    );
    return true;
  };

  /** The route's answer to a scored request: status, headers, body and metrics as it gives them. */
  const writeHot = (
    res: ServerResponse,
    req: IncomingMessage,
    entry: HostedModel,
    result: { probability: Float64Array; label: string[] },
    t0: bigint,
  ): void => {
    const { probability, label } = result;
    const classes = entry.predictor.signature.target.classes;
    const m = metricsFor(entry.name, String(entry.version), classes);
    countLabels(m, label, classes[1]);
    m.ok++;
    const payload = predictionsJson(entry.name, entry.version, probability, label, classes);
    m.latency.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    res.writeHead(200, {
      'x-request-id': genReqId(req),
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(payload)),
    });
    res.end(payload);
  };
  return app;
}

type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

const HOT = Symbol('keel.hotBody');
/** A request on the hot route while its body comes in. */
type HotRequest = IncomingMessage & {
  [HOT]?: {
    chunks: Buffer[];
    got: number;
    len: number;
    res: ServerResponse;
    next: HttpHandler;
    entry: HostedModel;
    fast: FastBody;
  } | null;
};

/** The predict route's path for a model name that needs no decoding. */
const HOT_URL = /^\/v1\/models\/([A-Za-z0-9_.-]+)\/predict$/;

/** A served (model, version)'s numbers since the last scrape, and its latency series. */
interface Children {
  model: string;
  version: string;
  classes: readonly string[];
  ok: number;
  negative: number;
  positive: number;
  latency: LatencySeries;
}

class LatencySeries {
  /** counts[b]: observations in (bounds[b - 1], bounds[b]]; the last one above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

/**
 * A Prometheus histogram whose series are bumped without label hashing (see metricsFor); it
 * exports what prom-client's Histogram would (cumulative `_bucket` lines with `le`, `_sum`,
 * `_count`) through the registry's metric interface.
 */
class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private all: LatencySeries[] = [];
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}
  series(labels: Record<string, string>): LatencySeries {
    const s = new LatencySeries(labels, this.bounds);
    this.all.push(s);
    return s;
  }
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.all) {
      let acc = 0;
      for (let b = 0; b < this.bounds.length; b++) {
        acc += s.counts[b];
        values.push({
          labels: { le: this.bounds[b], ...s.labels },
          value: acc,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
  reset(): void {
    for (const s of this.all) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

/** Add a request's predicted labels to its model's positive and negative counts. */
function countLabels(m: { positive: number; negative: number }, label: string[], positive: string): void {
  let positives = 0;
  for (let i = 0; i < label.length; i++) if (label[i] === positive) positives++;
  m.positive += positives;
  m.negative += label.length - positives;
}

const jsonNumber = (x: number) => (Number.isFinite(x) ? String(x) : 'null');

function predictionsJson(
  model: string,
  version: number,
  probability: Float64Array,
  label: readonly string[],
  classes: readonly string[],
): string {
  const tail0 = `,"label":${JSON.stringify(classes[0])}}`;
  const tail1 = `,"label":${JSON.stringify(classes[1])}}`;
  let s = `{"model":${JSON.stringify(model)},"version":${JSON.stringify(version)},"predictions":[`;
  for (let i = 0; i < probability.length; i++) {
    const l = label[i];
    s += `${i === 0 ? '' : ','}{"probability":${jsonNumber(probability[i])}${
      l === classes[0] ? tail0 : l === classes[1] ? tail1 : `,"label":${JSON.stringify(l)}}`
    }`;
  }
  return `${s}]}`;
}

/** A JSON body not parsed yet: its bytes, and Fastify's parser for when they are needed as JSON. */
class RawJson {
  private parsed: { value: unknown } | null = null;
  constructor(
    readonly bytes: Buffer,
    private readonly req: FastifyRequest,
    private readonly parser: ReturnType<FastifyInstance['getDefaultJsonParser']>,
  ) {}
  /** The body as JSON.parse (secure-json-parse) gives it; throws Fastify's 400 errors. */
  value(): unknown {
    if (!this.parsed) {
      let error: unknown = null;
      let value: unknown;
      this.parser(this.req, this.bytes.toString('utf8'), (e: unknown, v: unknown) => {
        error = e;
        value = v;
      });
      if (error) throw error;
      this.parsed = { value };
    }
    return this.parsed.value;
  }
}

/** A request body as rows (records) or as one array per column (columns), see createApp. */
type Input = { records: unknown[]; columns: null } | { records: null; columns: Record<string, unknown> };

function inputOf(body: unknown): Input {
  if (Array.isArray(body)) return { records: body, columns: null };
  if (body && typeof body === 'object') {
    const b = body as { records?: unknown; columns?: unknown };
    if (Array.isArray(b.records)) return { records: b.records, columns: null };
    if (b.columns && typeof b.columns === 'object' && !Array.isArray(b.columns))
      return { records: null, columns: b.columns as Record<string, unknown> };
  }
  return { records: [body], columns: null };
}

/** The request body as records or columns (a JSON body parsed now, when the fast reader took it). */
function requestInput(body: unknown): Input {
  return inputOf(body instanceof RawJson ? body.value() : body);
}

/** Rows of a columnar body: the length of its first array (columnsToFrame checks the others). */
function columnRows(columns: Record<string, unknown>): number {
  for (const k in columns) {
    const v = columns[k];
    if (Array.isArray(v)) return v.length;
  }
  return 0;
}

/**
 * The request's frame under a signature. One record fills the signature's reused scratch frame
 * (no allocations): it is scored synchronously right after, before any other request runs.
 */
function toFrame(input: Input, specs: Signature['inputs']) {
  return input.records
    ? recordsToFrame(input.records, specs, { scratch: input.records.length === 1 })
    : columnsToFrame(input.columns, specs);
}

/** Row i of the request as a record (for the prediction log). */
function recordAt(input: Input, i: number): unknown {
  if (input.records) return input.records[i];
  const rec: Record<string, unknown> = {};
  for (const k in input.columns) {
    const v = input.columns[k];
    if (Array.isArray(v)) rec[k] = v[i];
  }
  return rec;
}

/** From this many rows a batch is scored on the model's worker threads (when it has them). */
const ASYNC_MIN_ROWS = 256;

function score(
  p: Predictor,
  frame: Frame,
): { probability: Float64Array; label: string[] } | Promise<{ probability: Float64Array; label: string[] }> {
  return frame.nRows >= ASYNC_MIN_ROWS && p.predictFrameAsync
    ? p.predictFrameAsync(frame)
    : p.predictFrame(frame);
}

/** CORS for the listed origins (or `*`): headers on every answer, 204 to preflight requests. */
function installCors(app: FastifyInstance, origins: readonly string[]): void {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  app.addHook('onRequest', (req, reply, done) => {
    const origin = req.headers.origin;
    if (origin && (any || allowed.has(origin))) {
      reply.header('access-control-allow-origin', any ? '*' : origin);
      if (!any) reply.header('vary', 'Origin');
      reply.header('access-control-expose-headers', 'x-request-id, retry-after');
      if (req.method === 'OPTIONS') {
        reply
          .header('access-control-allow-methods', 'GET, POST, OPTIONS')
          .header('access-control-allow-headers', 'content-type, authorization, x-api-key, x-request-id')
          .header('access-control-max-age', '600')
          .status(204)
          .send();
        return;
      }
    }
    done();
  });
  // preflight requests reach the hook above only for routes that exist
  app.options('/*', (_req, reply) => {
    reply.status(204).send();
  });
}

const sha = (s: string) => createHash('sha256').update(s).digest();

/** Bearer or X-API-Key authentication for /v1/*; keys compared in constant time over their hashes. */
function installApiKeys(app: FastifyInstance, keys: readonly string[]): void {
  const hashes = keys.map(sha);
  app.addHook('onRequest', (req, reply, done) => {
    if (!req.url.startsWith('/v1/') || req.method === 'OPTIONS') return done();
    const key = clientKey(req);
    if (key !== null) {
      const h = sha(key);
      if (hashes.some((k) => timingSafeEqual(k, h))) return done();
    }
    reply
      .header('x-request-id', req.id)
      .status(401)
      .header('www-authenticate', 'Bearer realm="keel"')
      .send({
        error: {
          code: 'KEEL_E_UNAUTHORIZED',
          message:
            key === null
              ? 'this server needs an API key: send Authorization: Bearer <key> or X-API-Key: <key>'
              : 'the API key is not valid',
        },
      });
  });
}

function clientKey(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  const k = req.headers['x-api-key'];
  return typeof k === 'string' && k.length > 0 ? k : null;
}

/** Fixed-window request counting per client on /v1/*; 429 with Retry-After beyond the limit. */
function installRateLimit(app: FastifyInstance, limit: { max: number; windowMs: number }): void {
  let windowStart = Date.now();
  let counts = new Map<string, number>();
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done) => {
    if (!req.url.startsWith('/v1/')) return done();
    const now = Date.now();
    if (now - windowStart >= limit.windowMs) {
      windowStart = now - ((now - windowStart) % limit.windowMs);
      counts = new Map(); // memory stays bounded by the clients of one window
    }
    const key = clientKey(req) ?? req.ip;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    reply.header('x-ratelimit-limit', String(limit.max));
    reply.header('x-ratelimit-remaining', String(Math.max(0, limit.max - n)));
    if (n <= limit.max) return done();
    const retry = Math.max(1, Math.ceil((windowStart + limit.windowMs - now) / 1000));
    reply
      .header('x-request-id', req.id)
      .status(429)
      .header('retry-after', String(retry))
      .send({
        error: {
          code: 'KEEL_E_RATE_LIMITED',
          message: `more than ${limit.max} requests in ${limit.windowMs} ms: retry in ${retry} s`,
        },
      });
  });
}

/** OpenAPI 3.1 for the routes, with each served model's input schema taken from its signature. */
export function openApiDocument(host: ModelHost): Record<string, unknown> {
  const error = {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          fields: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                index: { type: 'integer' },
                field: { type: 'string' },
                rule: { type: 'string' },
                message: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
  const schemas: Record<string, unknown> = { Error: error };
  const paths: Record<string, unknown> = {
    '/health': { get: { summary: 'Liveness', responses: { '200': { description: 'alive' } } } },
    '/ready': {
      get: {
        summary: 'Readiness: at least one model loaded',
        responses: { '200': { description: 'ready' }, '503': { description: 'no model loaded' } },
      },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } },
    },
    '/v1/models': {
      get: { summary: 'The models served and since when', responses: { '200': { description: 'models' } } },
    },
  };
  for (const m of host.list()) {
    const props: Record<string, unknown> = {};
    const required: string[] = [];
    for (const c of m.predictor.signature.inputs) {
      const base: Record<string, unknown> =
        c.type === 'number'
          ? { type: 'number' }
          : c.type === 'integer'
            ? { type: 'integer' }
            : c.type === 'boolean'
              ? { type: 'boolean' }
              : c.type === 'category' && c.allowed
                ? { type: 'string', enum: c.allowed }
                : { type: 'string' };
      if (c.min !== undefined) base.minimum = c.min;
      if (c.max !== undefined) base.maximum = c.max;
      props[c.name] = c.nullable ? { anyOf: [base, { type: 'null' }] } : base;
      if (!c.nullable) required.push(c.name);
    }
    const rec = `${m.name}Record`;
    schemas[rec] = { type: 'object', properties: props, required };
    const [neg, pos] = m.predictor.signature.target.classes;
    paths[`/v1/models/${m.name}/predict`] = {
      post: {
        summary: `Score records with ${m.name} (version ${m.version})`,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { $ref: `#/components/schemas/${rec}` },
                  { type: 'array', items: { $ref: `#/components/schemas/${rec}` } },
                  {
                    type: 'object',
                    required: ['records'],
                    properties: {
                      records: { type: 'array', items: { $ref: `#/components/schemas/${rec}` } },
                    },
                  },
                ],
              },
            },
            'text/csv': {
              schema: {
                type: 'string',
                description:
                  'a batch: a header row with the input names, then one record per line; a blank cell is missing',
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'one prediction per record, in order',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    model: { type: 'string' },
                    version: { type: 'integer' },
                    predictions: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          probability: { type: 'number', description: `P(${pos})` },
                          label: { type: 'string', enum: [neg, pos] },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          '400': {
            description: 'field errors',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
          '401': { description: 'missing or wrong API key (when keys are configured)' },
          '413': { description: 'body too large' },
          '415': { description: 'not JSON' },
          '429': { description: 'rate limited' },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Keel prediction API', version: '1' },
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}
