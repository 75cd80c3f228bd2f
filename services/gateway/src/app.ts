import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import compress from '@fastify/compress';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bearerToken } from '@neonpro/auth';
import { type GatewayConfig, gatewayConfigSchema, loadConfig } from '@neonpro/config';
import {
  createLogger,
  METRICS_REGISTRY,
  REQUEST_ID_HEADER,
  sanitizeClientRequestId,
  startMetricsServer,
} from '@neonpro/observability';
import { PolicyRegistry, type ResiliencePolicy } from '@neonpro/resilience';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';
import type { Counter, Histogram, Registry } from 'prom-client';
import { compressionZlib } from './common/compression.js';
import { answerProblem, buildProblem, sendProblem } from './common/problem.filter.js';
import { upstreamUnavailable } from './common/upstream-problem.js';
import { isStreaming, serverTimingHeader } from './common/server-timing.js';
import { setupOpenApi } from './docs/openapi.js';
import { Authenticator } from './auth/authenticator.service.js';
import { JwtAuthGuard } from './auth/jwt-auth.guard.js';
import { knownCaller } from './auth/principal-resolver.guard.js';
import { AgentFailFast } from './edge/agent-fail-fast.js';
import { DatabaseAdmission } from './edge/database-admission.js';
import { EdgeAnswers } from './edge/edge-answer.js';
import type { RefusedBeforeRouting } from './edge/client-errors.js';
import { GatewayFastifyAdapter, isApiPath, setEdgeHeaders } from './edge/edge-headers.js';
import { trustProxyOption } from './edge/trust-proxy.js';
import { GatewayModule, type GatewayModuleExtras } from './gateway.module.js';
import { GatewayMetrics } from './metrics/gateway-metrics.service.js';
import { QuotaService } from './plans/quota.service.js';
import { GatewayIoAdapter } from './realtime/socket-io.adapter.js';
import { RedisConnections } from './redis/redis-connections.service.js';
import { AGENT_POLICY, POSTGRES_POLICY } from './resilience/gateway-policies.js';
import { serveUsagePageAssets } from './usage/usage-page.js';

export interface GatewayApp {
  app: NestFastifyApplication;
  config: GatewayConfig & { instanceId: string };
  port: number;
  /** Port serving /metrics: METRICS_PORT's listener, or `port` when METRICS_PORT=0. */
  metricsPort: number;
  close(): Promise<void>;
}

/** Headers a browser client may read on cross-origin responses. */
export const CORS_EXPOSED_HEADERS = [
  'X-Request-Id',
  'X-Message-Id',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'Server-Timing',
];

const PUBLIC_DIR = fileURLToPath(new URL('../public', import.meta.url));

/** Builds and starts one gateway replica. */
export async function startGateway(
  env: Record<string, string | undefined> = process.env,
  extras: GatewayModuleExtras = {},
): Promise<GatewayApp> {
  const parsed = loadConfig('gateway', gatewayConfigSchema, env);
  const config = { ...parsed, instanceId: `${hostname()}-${process.pid}-${parsed.PORT}` };
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL, instance: config.instanceId });

  const adapter = new GatewayFastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    // X-Forwarded-For/-Proto are believed only from these peers (req.ip, req.protocol).
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    // Our own id, always: it keys logs and audit rows. The client's X-Request-Id is only echoed,
    // logged and kept as an audit detail (client_request_id), so it cannot point at another request.
    genReqId: () => randomUUID(),
    return503OnClosing: true,
  });
  // bodyParser: false keeps Fastify's own JSON parser only, so form or text bodies get 415.
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger, extras), adapter, {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Nest 12's built-in helmet (same headers as helmet 8) runs in the adapter's own onRequest
  // hook and writes to the raw response, so 404s, router errors and SSE carry the headers too.
  // CSP and HSTS are set by our hook below: CSP must be the exact design string and HSTS depends
  // on the request's protocol.
  app.useSecurityHeaders({
    contentSecurityPolicy: false,
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    xContentTypeOptions: true,
  });
  const wildcard = config.CORS_ORIGINS.includes('*');
  const allowed = new Set(config.CORS_ORIGINS);
  app.enableCors({
    origin: wildcard ? '*' : (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
    // Never `*` together with credentials.
    credentials: !wildcard,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-Request-Id', 'Accept', 'traceparent', 'tracestate'],
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });
  await app.register(compress, {
    threshold: config.COMPRESSION_THRESHOLD_BYTES,
    encodings: ['br', 'gzip', 'deflate'],
    zlib: compressionZlib,
    // SSE is written to the hijacked raw response and never passes through here; be explicit anyway.
    customTypes: /^(application\/(json|problem\+json)|text\/plain)/,
  });
  const metrics = app.get(GatewayMetrics);
  adapter.observeRefusals((refusal) => {
    metrics.refusedBeforeRouting.inc({ status: String(refusal.status) });
    logRefusal(refusal, logger);
  });
  const policies = app.get(PolicyRegistry);
  const known = knownCallerOf(app.get(Authenticator));
  installFastifyHooks(app.getHttpAdapter().getInstance(), {
    metrics,
    postgres: policies.get(POSTGRES_POLICY),
    agent: policies.get(AGENT_POLICY),
    knownCaller: known,
    config,
    logger,
  });
  // A test's extra global guards would be skipped by the edge's answers: those apps go through Nest.
  if (!extras.guardsBeforeRateLimit?.length) {
    installEdgeAnswers(app, known, metrics, logger);
  }
  // Swagger UI is a map of the API: off in production unless DOCS_ENABLED=true.
  if (config.DOCS_ENABLED ?? config.NODE_ENV !== 'production') {
    setupOpenApi(app, { publicUrl: config.PUBLIC_URL });
  }
  // The demo chat page at / (next to src/ in the repo, copied next to dist's src/ by the build).
  app.useStaticAssets({ root: PUBLIC_DIR, prefix: '/', wildcard: false, index: ['index.html'] });
  serveUsagePageAssets(app);
  // Socket.IO (/chat on /socket.io) shares the HTTP server; it also serves /socket.io/socket.io.min.js
  // for clients without a bundler (the demo page bundles socket.io-client through @neonpro/client).
  app.useWebSocketAdapter(new GatewayIoAdapter(app, config, app.get(RedisConnections)));

  try {
    await app.listen(config.PORT, config.HOST);
  } catch (err) {
    // A refused boot (a port in use, a module failing to start) releases what the modules opened, so an embedding
    // process or a test is not kept alive by a half-started gateway's connections.
    await app.close().catch(() => undefined);
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  // /metrics on a port of its own, which no Ingress routes to (the API port then has none).
  const metricsServer =
    config.METRICS_PORT > 0
      ? await startMetricsServer(app.get<Registry>(METRICS_REGISTRY), config.METRICS_PORT, config.HOST)
      : undefined;
  logger.info(
    {
      port,
      nats: config.NATS_URL,
      subject_prefix: config.NATS_SUBJECT_PREFIX,
      rate_limit_store: config.REDIS_URL ? 'redis' : 'memory',
      metrics_port: metricsServer?.port ?? port,
    },
    'gateway ready',
  );
  return {
    app,
    config,
    port,
    metricsPort: metricsServer?.port ?? port,
    close: async () => {
      // Scraping goes on while the API drains; the metrics listener closes last.
      await app.close();
      await metricsServer?.close();
    },
  };
}

/**
 * The routes marked `@AnsweredAtEdge` answer their known callers without Nest, through the same
 * authentication, counting and problem functions as Nest's guards and filter.
 */
function installEdgeAnswers(
  app: NestFastifyApplication,
  knownCaller: (req: FastifyRequest) => boolean,
  metrics: GatewayMetrics,
  logger: Pino,
): void {
  const quotas = app.get(QuotaService);
  const edge = new EdgeAnswers({
    instanceOf: (controller) => app.get(controller, { strict: false }),
    standsInFor: [JwtAuthGuard],
    knownCaller,
    // The caller was set just before: `knownCaller` answered true.
    countNow: (req, reply, tier) => quotas.countNow(req.principal!, tier, reply),
    count: (req, reply, tier) => quotas.count(req.principal!, tier, reply),
    fail: (err, req, reply) => answerProblem(err, req, reply, logger),
    answered: (route) => metrics.edgeAnswers.labels({ route }),
  });
  app.getHttpAdapter().getInstance().addHook('onRoute', edge.onRoute);
}

/**
 * Whether a request's caller is known without waiting (bearer token and membership cached), the
 * caller then set on it as PrincipalResolverGuard would: the question the edge's hooks ask before
 * they answer anything themselves.
 */
function knownCallerOf(authenticator: Authenticator): (req: FastifyRequest) => boolean {
  return (req) => {
    const token = bearerToken(req.headers.authorization);
    return token !== undefined && knownCaller(authenticator, req, token);
  };
}

interface HookDeps {
  metrics: GatewayMetrics;
  postgres: ResiliencePolicy;
  agent: ResiliencePolicy;
  knownCaller: (req: FastifyRequest) => boolean;
  config: GatewayConfig;
  logger: Pino;
}

function installFastifyHooks(
  fastify: FastifyInstance,
  { metrics, postgres, agent, knownCaller: known, config, logger }: HookDeps,
): void {
  // The API speaks JSON only: other bodies get 415 instead of reaching validation as strings.
  fastify.removeContentTypeParser(['text/plain']);
  // Before Nest registers its routes (at listen): the routes marked as database work get the gate.
  const admission = new DatabaseAdmission({
    limit: config.DB_ADMISSION_LIMIT,
    queue: config.DB_ADMISSION_QUEUE,
    refuse: (req, reply) => {
      // Counted with the policy's own refusals: every call Postgres never saw, in one series.
      postgres.refusedByCaller('admission_full');
      const { body, headers } = buildProblem(upstreamUnavailable('database', 1), req);
      sendProblem(reply, body, headers);
    },
  });
  metrics.watchDbAdmission(admission);
  fastify.addHook('onRoute', admission.onRoute);
  // Routes that start an agent run: while its breaker is open, a known caller is refused here,
  // before the body is read or Nest runs (the rate-limit guard refuses the others once known).
  const failFast = new AgentFailFast({
    breaker: agent,
    knownCaller: known,
    // As the problem filter answers it: counted, in the request line, a debug line only.
    refuse: (req, reply, problem) => answerProblem(problem, req, reply, logger),
  });
  fastify.addHook('onRoute', failFast.onRoute);
  // Callback-style hooks: none of them awaits anything, and an async hook costs Fastify a promise
  // and its resolution on every request.
  fastify.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    setEdgeHeaders(req, reply);
    done();
  });
  fastify.addHook(
    'onSend',
    (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
      // Handlers may set their own Cache-Control; /v1 answers are per-user data, never cacheable.
      if (isApiPath(req.url)) {
        void reply.header('Cache-Control', 'no-store');
      }
      if (!reply.hasHeader('Server-Timing')) {
        void reply.header('Server-Timing', serverTimingHeader(req, reply.elapsedTime));
      }
      done(null, payload);
    },
  );
  const requestMetrics = new HttpRequestMetrics(metrics);
  fastify.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // Route templates keep label cardinality bounded; unmatched paths collapse to one label.
    const route = req.routeOptions.url ?? 'unmatched';
    const ms = reply.elapsedTime;
    requestMetrics.observe(route, req.method, reply.statusCode, ms / 1000);
    logRequest(req, reply, route, ms, logger);
    // A stream's length is the answer's length, not latency: SSE is judged by its first event
    // (see Server-Timing upstream), not here.
    if (ms >= config.SLOW_REQUEST_WARN_MS && !isStreaming(req)) {
      logSlowRequest(req, reply, route, ms, metrics, config, logger);
    }
    done();
  });
}

/**
 * The per-request counter and histogram, through label children cached per (route, method,
 * status): prom-client would otherwise hash a fresh label object twice on every request.
 * Bounded like the labels themselves (route templates × methods × statuses).
 */
type HttpLabel = 'route' | 'method' | 'status';

class HttpRequestMetrics {
  private readonly children = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<HttpLabel> }>();

  constructor(private readonly metrics: GatewayMetrics) {}

  observe(route: string, method: string, statusCode: number, seconds: number): void {
    const key = `${route} ${method} ${statusCode}`;
    let child = this.children.get(key);
    if (!child) {
      const labels = { route, method, status: String(statusCode) };
      child = { count: this.metrics.httpRequests.labels(labels), duration: this.metrics.httpDuration.labels(labels) };
      this.children.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }
}

const UNLOGGED_PATHS = /^\/(health|metrics)/;

/**
 * The one line per request, at info (failures have their own lines from the problem filter, and
 * a refusal storm must not turn into an error line per request): our request id (the client's kept
 * apart, sanitised), method, route template (never the URL: no ids or query values), status and
 * duration; no headers or bodies. Probes and scrapes are not logged.
 */
function logRequest(req: FastifyRequest, reply: FastifyReply, route: string, ms: number, logger: Pino): void {
  if (!logger.isLevelEnabled('info') || UNLOGGED_PATHS.test(req.url)) {
    return;
  }
  const client = sanitizeClientRequestId(req.headers[REQUEST_ID_HEADER]);
  logger.info(
    {
      request_id: String(req.id),
      ...(client ? { client_request_id: client } : {}),
      method: req.method,
      route,
      status: reply.statusCode,
      duration_ms: Math.round(ms * 10) / 10,
    },
    'request completed',
  );
}

/**
 * The request line of a request refused before routing (a URL the router cannot decode, a path
 * segment too long, headers too large, bytes that are not HTTP, a request not received in time):
 * its request id is in the answer, so it must be findable in the log. No URL: it is whatever the
 * client sent.
 */
function logRefusal(refusal: RefusedBeforeRouting, logger: Pino): void {
  logger.info(
    {
      request_id: refusal.requestId,
      ...(refusal.clientRequestId ? { client_request_id: refusal.clientRequestId } : {}),
      ...(refusal.method ? { method: refusal.method } : {}),
      status: refusal.status,
      code: refusal.code,
      ...(refusal.reason ? { reason: refusal.reason } : {}),
    },
    'request refused before routing',
  );
}

function logSlowRequest(
  req: FastifyRequest,
  reply: FastifyReply,
  route: string,
  ms: number,
  metrics: GatewayMetrics,
  config: GatewayConfig,
  logger: Pino,
): void {
  const critical = ms >= config.SLOW_REQUEST_CRITICAL_MS;
  metrics.slowRequests.inc({ severity: critical ? 'critical' : 'warn', route });
  const fields = {
    request_id: String(req.id),
    route,
    method: req.method,
    status: reply.statusCode,
    duration_ms: Math.round(ms),
    threshold_ms: critical ? config.SLOW_REQUEST_CRITICAL_MS : config.SLOW_REQUEST_WARN_MS,
  };
  if (critical) {
    logger.error({ ...fields, severity: 'critical' }, 'slow request (critical)');
  } else {
    logger.warn({ ...fields, severity: 'warn' }, 'slow request');
  }
}
