import { Writable } from 'node:stream';
import pino from 'pino';
import { HealthRegistry } from './health.js';
import { pinoOptions } from './logger.js';
import { maskPii } from './redaction.js';
import { resolveRequestId } from './request-id.js';
import { childTraceContext, formatTraceparent, parseTraceparent } from './trace-context.js';

describe('request ids', () => {
  it('keeps a safe incoming id and replaces unsafe ones', () => {
    expect(resolveRequestId('abc-123')).toBe('abc-123');
    expect(resolveRequestId(['r1', 'r2'])).toBe('r1');
    const fresh = resolveRequestId('bad id\n{"x":1}');
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolveRequestId(undefined)).not.toBe(resolveRequestId(undefined));
  });
});

describe('trace context', () => {
  it('continues a valid traceparent with a new span', () => {
    const parent = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(parent?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const child = childTraceContext(parent);
    expect(child.traceId).toBe(parent?.traceId);
    expect(child.spanId).not.toBe(parent?.spanId);
    expect(formatTraceparent(child)).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('starts fresh traces with distinct ids, across refills of the random pool', () => {
    const fresh = Array.from({ length: 1000 }, () => childTraceContext());
    for (const c of fresh) {
      expect(formatTraceparent(c)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    expect(new Set(fresh.map((c) => c.traceId)).size).toBe(1000);
    expect(new Set(fresh.map((c) => c.spanId)).size).toBe(1000);
  });

  it('rejects malformed or all-zero ids', () => {
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
  });
});

describe('log redaction', () => {
  it('redacts personal data fields at any depth', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = pino(pinoOptions({ service: 't', level: 'info' }), sink);
    log.info(
      { cpf: '529.982.247-25', patient: { email: 'a@b.com', full_name: 'Maria' }, body: { message: 'oi' } },
      'x',
    );
    const out = lines.join('');
    expect(out).not.toContain('529.982.247-25');
    expect(out).not.toContain('a@b.com');
    expect(out).not.toContain('Maria');
    expect(out).not.toContain('"oi"');
    expect(JSON.parse(out)).toMatchObject({ service: 't', level: 'info', msg: 'x' });
  });

  it('masks PII inside free text', () => {
    expect(maskPii('CPF 529.982.247-25 mail maria@x.com tel +55 11 98765-4321')).toBe(
      'CPF [CPF] mail [EMAIL] tel [PHONE]',
    );
  });
});

describe('HealthRegistry', () => {
  it('is ready only when every check passes and not shutting down', async () => {
    const h = new HealthRegistry();
    let ok = true;
    h.register({ name: 'dep', check: () => ({ ok }) });
    expect((await h.readiness()).ready).toBe(true);
    ok = false;
    expect((await h.readiness()).ready).toBe(false);
    ok = true;
    h.markShuttingDown();
    const r = await h.readiness();
    expect(r.ready).toBe(false);
    expect(r.checks.shutdown?.ok).toBe(false);
  });

  it('treats a throwing check as not ready', async () => {
    const h = new HealthRegistry();
    h.register({
      name: 'boom',
      check: () => {
        throw new Error('x');
      },
    });
    expect((await h.readiness()).checks.boom?.ok).toBe(false);
  });

  it('shows a shared dependency that does not affect readiness without gating on it', async () => {
    const h = new HealthRegistry();
    h.register({ name: 'bus', check: () => ({ ok: true }) });
    h.register({
      name: 'postgres',
      affectsReadiness: false,
      check: () => {
        throw new Error('down');
      },
    });
    const r = await h.readiness();
    expect(r.ready).toBe(true);
    expect(r.checks.postgres?.ok).toBe(false);
    h.markShuttingDown();
    expect((await h.readiness()).ready).toBe(false);
  });
});
