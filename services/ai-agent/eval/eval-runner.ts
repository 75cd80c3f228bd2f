import { randomUUID } from 'node:crypto';
import type { AgentCallerClaims, AgentEvent } from '@neonpro/contracts';
import type pg from 'pg';
import { lastValueFrom, toArray } from 'rxjs';
import type { ChatService } from '../src/chat/chat.service.js';
import { fold } from '@neonpro/text';
import type { ClinicDataPort } from '../src/tools/clinic-data.port.js';
import { resolveDate } from './eval-dates.js';
import type { Fact, GoldenCase, GoldenTurn } from './golden-case.schema.js';
import { must } from '@neonpro/testing';

/** Accents, case and punctuation do not matter when matching answers. */
export function norm(s: string): string {
  return fold(s).replace(/\s+/g, ' ');
}

/** Records what reached the database port, to check the tools' key arguments. */
export function recordingPort(inner: ClinicDataPort, log: { method: string; params: unknown }[]): ClinicDataPort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') {
        return value;
      }
      return (...args: unknown[]) => {
        log.push({ method: String(prop), params: args[1] });
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

interface Row {
  id: string;
  status: string;
  starts_at: string;
  patient: string;
  professional: string;
  procedure: string;
  local_date: string;
  local_time: string;
}

export interface EvalContext {
  db: pg.Pool;
  service: ChatService;
  callers: Record<GoldenCase['as'], AgentCallerClaims>;
  clinicId: string;
  timezone: string;
  today: string;
  portLog: { method: string; params: unknown }[];
  /** Called before every turn (the loopback OpenAI server queues its script here). */
  beforeTurn?: (turn: GoldenTurn) => void;
}

export interface TurnResult {
  ok: boolean;
  failures: string[];
  answer: string;
  tools: string[];
}

export interface CaseResult {
  id: string;
  category: string;
  why?: string;
  ok: boolean;
  turns: TurnResult[];
}

async function snapshot(ctx: EvalContext): Promise<Map<string, Row>> {
  const res = await ctx.db.query<Row>(
    `select a.id, a.status, extract(epoch from a.starts_at)::text as starts_at, p.full_name as patient, pr.full_name as professional, a.procedure,
            to_char(a.starts_at at time zone $2, 'YYYY-MM-DD') as local_date,
            to_char(a.starts_at at time zone $2, 'HH24:MI') as local_time
       from public.appointments a join public.patients p on p.id = a.patient_id
       join public.professionals pr on pr.id = a.professional_id
      where a.clinic_id = $1`,
    [ctx.clinicId, ctx.timezone],
  );
  return new Map(res.rows.map((r) => [r.id, r]));
}

function diff(before: Map<string, Row>, after: Map<string, Row>): { action: string; row: Row }[] {
  const out: { action: string; row: Row }[] = [];
  for (const [id, row] of after) {
    const old = before.get(id);
    if (!old) {
      out.push({ action: 'booked', row });
    } else if (old.status !== row.status && row.status === 'cancelled') {
      out.push({ action: 'cancelled', row });
    } else if (old.starts_at !== row.starts_at) {
      out.push({ action: 'rescheduled', row });
    } else if (old.status !== row.status) {
      out.push({ action: `status:${row.status}`, row });
    }
  }
  for (const id of before.keys()) {
    if (!after.has(id)) {
      out.push({ action: 'deleted', row: before.get(id) as Row });
    }
  }
  return out;
}

const countPhrase = (n: number) => new RegExp(`\\b${n} (consultas?|appointments?|atendimentos?)\\b`);
const NONE =
  /\b(nao ha|nao tem|nao houve|nenhuma|there are no|there were no|has no|had no|no appointments|no active)\b/;

async function checkFact(ctx: EvalContext, fact: Fact, answer: string): Promise<string[]> {
  const a = norm(answer);
  const fail: string[] = [];
  if ('appointments' in fact) {
    const f = fact.appointments;
    const from = resolveDate(f.from, ctx.today);
    const to = resolveDate(f.to, ctx.today);
    const res = await ctx.db.query<{ patient: string; status: string }>(
      `select p.full_name as patient, a.status from public.appointments a
         join public.patients p on p.id = a.patient_id join public.professionals pr on pr.id = a.professional_id
        where a.clinic_id = $1 and (a.starts_at at time zone $2)::date between $3 and $4
          and ($5::text is null or pr.full_name = $5) and ($6::text is null or a.status = $6)
          and ($7::text is null or p.full_name = $7)`,
      [ctx.clinicId, ctx.timezone, from, to, f.professional ?? null, f.status ?? null, f.patient ?? null],
    );
    const rows = f.status ? res.rows : res.rows.filter((r) => r.status !== 'cancelled');
    if (rows.length === 0) {
      if (!NONE.test(a)) {
        fail.push(`expected "no appointments" ${from}..${to}`);
      }
    } else {
      if (!countPhrase(rows.length).test(a)) {
        fail.push(`expected the count ${rows.length} (${from}..${to})`);
      }
      if (rows.length <= 12) {
        for (const r of rows) {
          if (!a.includes(norm(r.patient))) {
            fail.push(`missing patient ${r.patient}`);
          }
        }
      }
    }
  } else if ('patients_matching' in fact) {
    const words = norm(fact.patients_matching).split(' ');
    const res = await ctx.db.query<{ full_name: string }>(
      'select full_name from public.patients where clinic_id = $1 and anonymized_at is null',
      [ctx.clinicId],
    );
    const names = res.rows.map((r) => r.full_name).filter((n) => words.every((w) => norm(n).includes(w)));
    if (names.length === 0) {
      fail.push('fixture: no patient matches');
    }
    for (const n of names) {
      if (!a.includes(norm(n))) {
        fail.push(`missing patient ${n}`);
      }
    }
  } else if ('patient' in fact) {
    if (!a.includes(norm(fact.patient))) {
      fail.push(`missing patient ${fact.patient}`);
    }
  } else if ('clinic_hours' in fact) {
    const res = await ctx.db.query<{ opening_hours: Record<string, string> }>(
      'select opening_hours from public.clinics where id = $1',
      [ctx.clinicId],
    );
    for (const range of Object.values(must(res.rows[0], 'a row').opening_hours)) {
      for (const t of range.split('-')) {
        if (!a.includes(t.trim())) {
          fail.push(`missing hour ${t}`);
        }
      }
    }
  } else if ('clinic_services' in fact) {
    const res = await ctx.db.query<{ procedures: { name: string; duration_minutes: number }[] }>(
      'select procedures from public.clinics where id = $1',
      [ctx.clinicId],
    );
    for (const p of must(res.rows[0], 'a row').procedures) {
      if (!a.includes(norm(p.name))) {
        fail.push(`missing service ${p.name}`);
      }
      if (!a.includes(`${p.duration_minutes}`)) {
        fail.push(`missing duration ${p.duration_minutes}`);
      }
    }
  } else if ('professionals' in fact) {
    const res = await ctx.db.query<{ full_name: string }>(
      'select full_name from public.professionals where clinic_id = $1 and active',
      [ctx.clinicId],
    );
    for (const p of res.rows) {
      if (!a.includes(norm(p.full_name))) {
        fail.push(`missing professional ${p.full_name}`);
      }
    }
  } else {
    const date = resolveDate(fact.free_slots.date, ctx.today);
    const busy = await ctx.db.query<{ s: string; e: string }>(
      `select to_char(a.starts_at at time zone $2, 'HH24:MI') as s, to_char(a.ends_at at time zone $2, 'HH24:MI') as e
         from public.appointments a join public.professionals pr on pr.id = a.professional_id
        where a.clinic_id = $1 and pr.full_name = $3 and a.status <> 'cancelled'
          and (a.starts_at at time zone $2)::date = $4`,
      [ctx.clinicId, ctx.timezone, fact.free_slots.professional, date],
    );
    const times = [...answer.matchAll(/\b(\d{2}:\d{2})\b/g)].map((m) => m[0]);
    if (times.length === 0) {
      fail.push('no free time listed');
    }
    for (const t of times) {
      if (busy.rows.some((b) => b.s <= t && t < b.e)) {
        fail.push(`${t} is taken on ${date}`);
      }
    }
  }
  return fail;
}

function subsequence(expected: string[], actual: string[]): boolean {
  let i = 0;
  for (const t of actual) {
    if (t === expected[i]) {
      i++;
    }
  }
  return i === expected.length;
}

function checkArgs(ctx: EvalContext, turn: GoldenTurn, log: { method: string; params: unknown }[]): string[] {
  const fail: string[] = [];
  const calls = (m: string) => log.filter((l) => l.method === m).map((l) => l.params as Record<string, unknown>);
  const localDateOf = (iso: unknown, plusDays = 0) => {
    const d = new Date(new Date(String(iso)).getTime() + plusDays * 86_400_000);
    return new Intl.DateTimeFormat('en-CA', { timeZone: ctx.timezone }).format(d);
  };
  const la = turn.args?.list_appointments;
  if (la) {
    const ok = calls('listAppointments').some(
      (p) =>
        (!la.date_from || localDateOf(p.from) === resolveDate(la.date_from, ctx.today)) &&
        (!la.date_to || localDateOf(p.to, -1) === resolveDate(la.date_to, ctx.today)) &&
        (!la.status || p.status === la.status) &&
        (!la.professional || p.professionalId !== undefined) &&
        (!la.patient || p.patientId !== undefined),
    );
    if (!ok) {
      fail.push(
        `list_appointments args ${JSON.stringify(la)} not seen in ${JSON.stringify(calls('listAppointments'))}`,
      );
    }
  }
  const sp = turn.args?.search_patients;
  if (sp && !calls('searchPatients').some((p) => norm(String(p.query)).includes(norm(sp.query)))) {
    fail.push(`search_patients query ${sp.query} not seen`);
  }
  const fs = turn.args?.find_free_slots;
  if (fs && !calls('findFreeSlots').some((p) => p.date === resolveDate(fs.date, ctx.today))) {
    fail.push(`find_free_slots on ${fs.date} not seen`);
  }
  return fail;
}

/** Runs one golden conversation through the real agent and checks every turn. */
export async function runCase(ctx: EvalContext, c: GoldenCase, category: string): Promise<CaseResult> {
  const sessionId = randomUUID();
  const caller = ctx.callers[c.as];
  let lastProposal: string | undefined;
  const turns: TurnResult[] = [];
  for (const turn of c.turns) {
    ctx.beforeTurn?.(turn);
    ctx.portLog.length = 0;
    const before = await snapshot(ctx);
    const events: AgentEvent[] = await lastValueFrom(
      ctx.service
        .stream(
          {
            session_id: sessionId,
            message_id: randomUUID(),
            message: turn.user,
            ...(turn.confirm && lastProposal ? { confirm: { proposal_id: lastProposal } } : {}),
          },
          caller,
        )
        .pipe(toArray()),
    );
    const after = await snapshot(ctx);
    const last = events.at(-1);
    const answer = last?.type === 'done' ? last.content : '';
    const tools = events.flatMap((e) => (e.type === 'tool' && e.status === 'started' ? [e.name] : []));
    const proposal = events.find((e) => e.type === 'proposal');
    lastProposal = proposal?.type === 'proposal' ? proposal.proposal_id : undefined;
    const failures: string[] = [];
    if (last?.type !== 'done') {
      failures.push(`no answer: ${last?.type === 'error' ? last.code : 'none'}`);
    }
    if (turn.tools) {
      if (turn.tools.length === 0 ? tools.length > 0 : !subsequence(turn.tools, tools)) {
        failures.push(`tools ${JSON.stringify(tools)} ≠ ${JSON.stringify(turn.tools)}`);
      }
    }
    failures.push(...checkArgs(ctx, turn, ctx.portLog));
    const a = norm(answer);
    for (const s of turn.contains) {
      if (!a.includes(norm(s))) {
        failures.push(`missing "${s}"`);
      }
    }
    for (const group of turn.contains_any) {
      if (!group.some((s) => a.includes(norm(s)))) {
        failures.push(`missing one of ${JSON.stringify(group)}`);
      }
    }
    for (const s of turn.not_contains) {
      if (a.includes(norm(s))) {
        failures.push(`must not say "${s}"`);
      }
    }
    for (const f of turn.facts) {
      failures.push(...(await checkFact(ctx, f, answer)));
    }
    if (turn.proposal === true && !proposal) {
      failures.push('expected a proposal event');
    }
    if (turn.proposal === false && proposal) {
      failures.push('unexpected proposal event');
    }
    const changes = diff(before, after);
    const expected = turn.writes;
    if (changes.length !== expected.length) {
      failures.push(
        `writes ${JSON.stringify(changes.map((x) => `${x.action} ${x.row.patient}`))} ≠ ${expected.length} expected`,
      );
    }
    for (const w of expected) {
      const hit = changes.find(
        (x) =>
          x.action === w.action &&
          x.row.patient === w.patient &&
          (!w.date || x.row.local_date === resolveDate(w.date, ctx.today)) &&
          (!w.time || x.row.local_time === w.time),
      );
      if (!hit) {
        failures.push(`expected ${w.action} for ${w.patient}`);
      }
    }
    turns.push({ ok: failures.length === 0, failures, answer, tools });
  }
  return { id: c.id, category, why: c.why, ok: turns.every((t) => t.ok), turns };
}
