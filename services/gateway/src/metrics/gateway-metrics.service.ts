import { Inject, Injectable } from '@nestjs/common';
import { METRICS_REGISTRY } from '@neonpro/observability';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the admission gauges read from the gate at scrape time. */
interface AdmissionCounts {
  readonly admitted: number;
  readonly waiting: number;
}

/** The gateway's Prometheus series (HTTP RED, NATS calls, open streams, rate limits, slow requests, sockets). */
@Injectable()
export class GatewayMetrics {
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method' | 'status'>;
  readonly natsRequests: Counter<'outcome'>;
  readonly natsFirstEvent: Histogram;
  /** Live run follows that missed an event and read the stored log instead. */
  readonly natsLiveGaps: Counter;
  readonly openStreams: Gauge;
  /** AGENT_RUNS consumer's pending count as last read for admission (the cluster's queue). */
  readonly agentQueueDepth: Gauge;
  readonly rateLimitRejections: Counter<'tier'>;
  readonly rateLimitStoreErrors: Counter<'fail_mode'>;
  readonly quotaRejections: Counter<'tier'>;
  readonly slowRequests: Counter<'severity' | 'route'>;
  readonly refusedBeforeRouting: Counter<'status'>;
  /** Requests answered at the edge without Nest (EdgeAnswers): callers whose token and membership were cached. */
  readonly edgeAnswers: Counter<'route'>;
  readonly socketConnections: Gauge;
  readonly socketEvents: Counter<'event'>;
  readonly socketEventDuration: Histogram<'event'>;
  /** Read at scrape time from the gate `watchDbAdmission` was given (its refusals count in `gateway_policy_rejections_total`). */
  private dbAdmissionGate: AdmissionCounts | undefined;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route template, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.natsRequests = new Counter({
      name: 'gateway_nats_requests_total',
      help: 'Agent calls over NATS by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.natsFirstEvent = new Histogram({
      name: 'gateway_nats_request_duration_seconds',
      help: 'Time from publishing an agent call to its first streamed event',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.natsLiveGaps = new Counter({
      name: 'gateway_nats_live_gaps_total',
      help: 'Live run follows that missed an event (seq gap) and read the rest from AGENT_EVENTS',
      registers: [registry],
    });
    this.agentQueueDepth = new Gauge({
      name: 'gateway_agent_queue_depth',
      help: 'Runs waiting in AGENT_RUNS (pending count of the shared agent consumer), as last read',
      registers: [registry],
    });
    this.openStreams = new Gauge({
      name: 'gateway_open_streams',
      help: 'Agent reply streams being relayed now',
      registers: [registry],
    });
    this.rateLimitRejections = new Counter({
      name: 'gateway_rate_limit_rejections_total',
      help: 'Requests refused with 429 by rate-limit tier',
      labelNames: ['tier'],
      registers: [registry],
    });
    this.quotaRejections = new Counter({
      name: 'gateway_quota_rejections_total',
      help: 'Chats refused by a clinic plan: ai_clinic (the clinic aggregate) or ai_tokens (monthly budget spent)',
      labelNames: ['tier'],
      registers: [registry],
    });
    this.rateLimitStoreErrors = new Counter({
      name: 'gateway_rate_limit_store_errors_total',
      help: 'Requests whose rate-limit check could not reach the store, by fail mode applied',
      labelNames: ['fail_mode'],
      registers: [registry],
    });
    this.slowRequests = new Counter({
      name: 'gateway_slow_requests_total',
      help: 'Requests slower than SLOW_REQUEST_WARN_MS (warn) or SLOW_REQUEST_CRITICAL_MS (critical)',
      labelNames: ['severity', 'route'],
      registers: [registry],
    });
    this.refusedBeforeRouting = new Counter({
      name: 'gateway_http_refused_before_routing_total',
      help: "Requests Fastify's router or Node's HTTP parser refused before any route ran (not in http_requests_total), by status",
      labelNames: ['status'],
      registers: [registry],
    });
    this.edgeAnswers = new Counter({
      name: 'gateway_edge_answers_total',
      help: 'Requests answered at the edge without Nest (caller token and membership cached; also in http_requests_total), by route template',
      labelNames: ['route'],
      registers: [registry],
    });
    this.socketConnections = new Gauge({
      name: 'socket_connections',
      help: 'Open Socket.IO connections on the /chat namespace of this process',
      registers: [registry],
    });
    this.socketEvents = new Counter({
      name: 'socket_events_total',
      help: 'Socket.IO events received from clients (chat:send, …) and emitted to rooms (chat:token, …)',
      labelNames: ['event'],
      registers: [registry],
    });
    this.socketEventDuration = new Histogram({
      name: 'socket_event_duration_seconds',
      help: 'Time to handle a client Socket.IO event, until its ack',
      labelNames: ['event'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    const gate = (): AdmissionCounts | undefined => this.dbAdmissionGate;
    new Gauge({
      name: 'gateway_db_admission_admitted',
      help: 'Database-backed requests past the admission gate (at most DB_ADMISSION_LIMIT)',
      registers: [registry],
      collect() {
        this.set(gate()?.admitted ?? 0);
      },
    });
    new Gauge({
      name: 'gateway_db_admission_waiting',
      help: 'Database-backed requests waiting at the admission gate (at most DB_ADMISSION_QUEUE)',
      registers: [registry],
      collect() {
        this.set(gate()?.waiting ?? 0);
      },
    });
  }

  /** The admission gate whose counts the two gauges report. */
  watchDbAdmission(gate: AdmissionCounts): void {
    this.dbAdmissionGate = gate;
  }
}
