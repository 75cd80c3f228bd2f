import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { REDACT_PATHS } from './redaction.js';
import { resolveRequestId, REQUEST_ID_HEADER, sanitizeClientRequestId } from './request-id.js';

export interface LoggerSettings {
  service: string;
  level: string;
  instance?: string;
}

/** pino options shared by every process: JSON lines, ISO time, service name, PII redaction. */
export function pinoOptions(settings: LoggerSettings): LoggerOptions {
  return {
    level: settings.level,
    base: { service: settings.service, ...(settings.instance ? { instance: settings.instance } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/**
 * Writes to stdout through pino's asynchronous destination: a log line never blocks the event
 * loop on a write(2) to a slow pipe (a log shipper falling behind). pino flushes what is still
 * buffered synchronously on process exit.
 */
export function createLogger(settings: LoggerSettings): Logger {
  return pino(pinoOptions(settings), pino.destination({ dest: 1, sync: false }));
}

/**
 * nestjs-pino params for an HTTP service: the request id comes from (or is echoed to)
 * `X-Request-Id`, and only the method, route and status are logged, never bodies.
 */
export function httpLoggerParams(logger: Logger, extra: Partial<Params> = {}): Params {
  return {
    pinoHttp: {
      logger,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        // Fastify assigns req.id first (the gateway's own id, see genReqId there).
        const known = (req as { id?: unknown }).id;
        const id = typeof known === 'string' ? known : resolveRequestId(req.headers[REQUEST_ID_HEADER]);
        // The client's own id is echoed back; ours keys the logs and the audit rows.
        res.setHeader('X-Request-Id', sanitizeClientRequestId(req.headers[REQUEST_ID_HEADER]) ?? id);
        return id;
      },
      customProps: (req: IncomingMessage) => {
        const client = sanitizeClientRequestId(req.headers[REQUEST_ID_HEADER]);
        return client ? { client_request_id: client } : {};
      },
      customAttributeKeys: { reqId: 'request_id' },
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url?.split('?')[0],
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: { ignore: (req: IncomingMessage) => /^\/(health|metrics)/.test(req.url ?? '') },
    },
    ...extra,
  };
}
