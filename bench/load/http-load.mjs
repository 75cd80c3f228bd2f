// HTTP load generator (autocannon) in its own process. argv[2]: JSON config.
import autocannon from 'autocannon';

const cfg = JSON.parse(process.argv[2]);
const result = await autocannon({
  url: cfg.url,
  method: cfg.method ?? 'GET',
  headers: cfg.headers ?? {},
  body: cfg.body,
  connections: cfg.connections ?? 64,
  duration: cfg.duration ?? 10,
  pipelining: 1,
});
const non2xx = result.non2xx + result.errors + result.timeouts;
console.log(
  JSON.stringify({
    requests: result.requests.total,
    errors: non2xx,
    rps: result.requests.average,
    mean: result.latency.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    statusCodes: result.statusCodeStats,
  }),
);
