// Latency statistics shared by every load generator (milliseconds in, summary out).
export function summarize(latenciesMs, durationS, errors = 0) {
  const sorted = Float64Array.from(latenciesMs).sort();
  const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
  return {
    requests: sorted.length,
    errors,
    rps: sorted.length / durationS,
    mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
