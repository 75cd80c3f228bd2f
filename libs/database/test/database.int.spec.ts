import { join } from 'node:path';
import {
  AppointmentConflictError,
  Database,
  findSupabaseDir,
  ForbiddenError,
  type JwtClaims,
  makeCpf,
  NotFoundError,
  type Queryable,
  runMigrations,
  runSeed,
  type UserTxOptions,
} from '@neonpro/database';
import { createTestDatabase, type TestDatabase, must } from '@neonpro/testing';
import pg from 'pg';
import { type DemoDatabase, openDemoDatabase } from './support/demo-database.js';

const TABLES = [
  'clinics',
  'clinic_members',
  'professionals',
  'patients',
  'appointments',
  'consents',
  'audit_log',
  'chat_sessions',
  'chat_messages',
];

describe('database: RLS tenancy, repositories, audit, LGPD rights (real Postgres)', () => {
  let demo: DemoDatabase;
  // Short names for the harness's parts (see DemoDatabase), used all over this file.
  let tdb: TestDatabase;
  let db: Database;
  let owner: Database;
  let users: Record<string, JwtClaims>;
  let clinics: Record<string, string>;

  const as = (email: string): JwtClaims => must(users[email], email);

  beforeAll(async () => {
    demo = await openDemoDatabase({ ownerPoolMax: 2 });
    ({ tdb, db, owner, users, clinics } = demo);
    // Chat rows for both clinics so every table has data on both sides.
    for (const email of ['admin@aurora.demo', 'admin@boreal.demo']) {
      await db.withUser(as(email), async (r) => {
        const s = await r.chat.createSession('teste');
        await r.chat.appendMessage(s.id, 'user', 'Olá', 'c-1');
        await r.patients.search({ limit: 1 });
      });
    }
  });

  afterAll(async () => {
    await demo?.close();
  });

  it('seeds two clinics, four users, ~50 patients each, and re-seeding duplicates nothing', async () => {
    const count = async () => {
      const r = await owner.pool.query<{ n: string }>(
        `select (select count(*) from clinics) || '/' || (select count(*) from auth.users) || '/' ||
                (select count(*) from patients) || '/' || (select count(*) from appointments) || '/' ||
                (select count(*) from consents) as n`,
      );
      return must(r.rows[0], 'a row').n;
    };
    const before = await count();
    await runSeed(owner.pool, join(findSupabaseDir(), 'seed.sql'), 'other-password');
    expect(await count()).toBe(before);
    expect(before.split('/').slice(0, 3)).toEqual(['2', '4', '100']);
    const tomorrow = await db.withUser(as('dra.lima@aurora.demo'), async (r, tx) => {
      const lima = must(
        (await r.professionals.findByName('lima'))[0],
        'the first of r.professionals.findByName("lima")',
      );
      const q = await tx.query<{ n: number }>(
        `select count(*)::int as n from appointments where professional_id = $1
           and (starts_at at time zone 'America/Sao_Paulo')::date = (now() at time zone 'America/Sao_Paulo')::date + 1`,
        [lima.id],
      );
      return must(q.rows[0], 'a row').n;
    });
    expect(tomorrow).toBeGreaterThan(0);
  });

  it.each(TABLES)('RLS: %s shows each clinic only its own rows', async (table) => {
    for (const [email, slug] of [
      ['admin@aurora.demo', 'aurora'],
      ['admin@boreal.demo', 'boreal'],
    ] as const) {
      const ids = await db.withUser(as(email), async (_r, tx) => {
        const col = table === 'clinics' ? 'id' : 'clinic_id';
        const r = await tx.query<{ c: string }>(`select distinct ${col} as c from public.${table}`);
        return r.rows.map((x) => x.c);
      });
      expect(ids).toEqual([clinics[slug]]);
    }
  });

  it('RLS: direct SQL as authenticated with another clinic’s claims cannot read or write', async () => {
    const auroraPatient = await db.withUser(as('admin@aurora.demo'), async (r) =>
      must((await r.patients.search({ limit: 1 })).data[0], 'a listed item'),
    );
    await db.withUser(as('admin@boreal.demo'), async (_r, tx) => {
      expect((await tx.query('select current_user as u')).rows[0]).toEqual({ u: 'authenticated' });
      expect((await tx.query('select * from patients where id = $1', [auroraPatient.id])).rowCount).toBe(0);
      expect((await tx.query(`update patients set full_name = 'x' where id = $1`, [auroraPatient.id])).rowCount).toBe(
        0,
      );
      expect(
        (await tx.query('update appointments set status = $2 where patient_id = $1', [auroraPatient.id, 'cancelled']))
          .rowCount,
      ).toBe(0);
      expect((await tx.query('delete from chat_sessions where clinic_id = $1', [clinics.aurora])).rowCount).toBe(0);
      for (const sql of [
        `update clinics set name = 'x' where id = $1`,
        `update clinic_members set role = 'admin' where clinic_id = $1`,
        `delete from clinic_members where clinic_id = $1`,
        `update professionals set active = false where clinic_id = $1`,
        `update consents set revoked_at = now() where clinic_id = $1`,
        `update chat_messages set content = 'x' where clinic_id = $1`,
        `delete from chat_messages where clinic_id = $1`,
      ]) {
        expect([sql, (await tx.query(sql, [clinics.aurora])).rowCount]).toEqual([sql, 0]);
      }
    });
    const auroraSession = await db.withUser(as('admin@aurora.demo'), async (r) =>
      must((await r.chat.listSessions())[0], 'the first of r.chat.listSessions()'),
    );
    const attempts: [string, unknown[]][] = [
      [
        `insert into chat_messages (clinic_id, session_id, role, content) values ($1, $2, 'user', 'x')`,
        [clinics.aurora, auroraSession.id],
      ],
      [
        `insert into patients (clinic_id, full_name, cpf) values ($1, 'Intruso', $2)`,
        [clinics.aurora, makeCpf('987654321')],
      ],
      [
        `insert into consents (clinic_id, patient_id, purpose, legal_basis) values ($1, $2, 'x', 'y')`,
        [clinics.aurora, auroraPatient.id],
      ],
      [
        `insert into audit_log (clinic_id, actor_id, action, subject_type) values ($1, $2, 'x', 'y')`,
        [clinics.aurora, as('admin@boreal.demo').sub],
      ],
      [`insert into chat_sessions (clinic_id, user_id) values ($1, $2)`, [clinics.aurora, as('admin@boreal.demo').sub]],
      [`insert into professionals (clinic_id, full_name) values ($1, 'x')`, [clinics.aurora]],
      [
        `insert into clinic_members (clinic_id, user_id, role) values ($1, $2, 'admin')`,
        [clinics.aurora, as('admin@boreal.demo').sub],
      ],
      // A Boreal row pointing at an Aurora patient: the composite foreign key refuses it.
      [
        `insert into appointments (clinic_id, patient_id, professional_id, starts_at, ends_at, procedure)
         select $1, $2, id, now() + interval '40 days', now() + interval '40 days 1 hour', 'x' from professionals limit 1`,
        [clinics.boreal, auroraPatient.id],
      ],
    ];
    for (const [sql, values] of attempts) {
      await expect(db.withUser(as('admin@boreal.demo'), (_r, tx) => tx.query(sql, values))).rejects.toMatchObject({
        code: expect.stringMatching(/^(42501|23503)$/),
      });
    }
    // Nothing leaked into Aurora.
    const n = await db.withUser(as('admin@aurora.demo'), async (_r, tx) =>
      Number(
        must(
          (await tx.query<{ n: string }>(`select count(*) as n from patients where full_name = 'Intruso'`)).rows[0],
          'a row',
        ).n,
      ),
    );
    expect(n).toBe(0);
  });

  it('RLS: repositories answer another clinic’s ids with NotFound (404, not 403)', async () => {
    const auroraPatient = await db.withUser(as('admin@aurora.demo'), async (r) =>
      must((await r.patients.search({ limit: 1 })).data[0], 'a listed item'),
    );
    const auroraAppt = await db.withUser(as('admin@aurora.demo'), async (r) =>
      must((await r.appointments.list({ limit: 1 })).data[0], 'a listed item'),
    );
    await expect(db.withUser(as('admin@boreal.demo'), (r) => r.patients.get(auroraPatient.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      db.withUser(as('admin@boreal.demo'), (r) => r.patients.update(auroraPatient.id, { phone: '1' })),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(db.withUser(as('admin@boreal.demo'), (r) => r.appointments.get(auroraAppt.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(db.withUser(as('admin@boreal.demo'), (r) => r.consents.list(auroraPatient.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(
      db.withUser(as('admin@boreal.demo'), (r) => r.patients.erase(auroraPatient.id)),
    ).rejects.toBeInstanceOf(NotFoundError);
    const boreal = await db.withUser(as('admin@boreal.demo'), (r) => r.professionals.list());
    await expect(
      db.withUser(as('admin@boreal.demo'), (r) =>
        r.appointments.book({
          patient_id: auroraPatient.id,
          professional_id: must(boreal[0], 'boreal[0]').id,
          starts_at: '2030-01-01T10:00:00Z',
          ends_at: '2030-01-01T11:00:00Z',
          procedure: 'x',
        }),
      ),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('search is accent- and case-insensitive by name, and finds CPFs with or without punctuation', async () => {
    await db.withUser(as('admin@aurora.demo'), async (r) => {
      const cpf = makeCpf('529982247');
      await r.patients.create({ full_name: 'Joaquim Conceição Brandão', cpf });
      expect((await r.patients.search({ search: 'conceicao brandao' })).data.map((p) => p.full_name)).toContain(
        'Joaquim Conceição Brandão',
      );
      expect((await r.patients.search({ search: 'JOAQUIM' })).data).toHaveLength(1);
      const pretty = `${cpf.slice(0, 3)}.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-${cpf.slice(9)}`;
      expect((await r.patients.search({ search: pretty })).data[0]?.cpf).toBe(cpf);
      expect((await r.patients.search({ search: cpf })).data[0]?.full_name).toBe('Joaquim Conceição Brandão');
    });
  });

  it('keyset pagination walks every patient exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await db.withUser(as('admin@boreal.demo'), (r) => r.patients.search({ limit: 7, cursor }));
      seen.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(50);
    expect(new Set(seen).size).toBe(50);
  });

  it("indexed search (app.search_patient_ids) stays in the caller's clinic and pages by keyset", async () => {
    await db.withUser(as('admin@boreal.demo'), (r) =>
      r.patients.create({ full_name: 'Quelita Ímpar Boreal', cpf: makeCpf('871293004'), phone: '+55 (11) 97364-2851' }),
    );
    const find = (email: string, search: string) =>
      db.withUser(as(email), async (r) => (await r.patients.search({ search })).data.map((p) => p.full_name));
    expect(await find('admin@boreal.demo', 'quelita impar')).toEqual(['Quelita Ímpar Boreal']);
    expect(await find('admin@aurora.demo', 'quelita impar')).toEqual([]);
    expect(await find('admin@aurora.demo', '871293')).toEqual([]);
    // 8+ digits may also be the end of a phone number, however it was typed.
    expect(await find('admin@boreal.demo', '97364-2851')).toEqual(['Quelita Ímpar Boreal']);
    expect(await find('admin@aurora.demo', '973642851')).toEqual([]);
    // The functions answer nothing outside a user's clinic (a session with no claims has none).
    const owner = new pg.Client({ connectionString: tdb.url });
    await owner.connect();
    try {
      const { rows } = await owner.query<{ n: number }>(
        `select count(*)::int as n from app.search_patient_ids('quelita', null, null, null, 10)`,
      );
      expect(rows[0]?.n).toBe(0);
    } finally {
      await owner.end();
    }
    // A name shared by several patients, one per page: every match once, in keyset order.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await db.withUser(as('admin@boreal.demo'), (r) =>
        r.patients.search({ search: 'silva', limit: 1, cursor }),
      );
      seen.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    const all = await db.withUser(as('admin@boreal.demo'), (r) => r.patients.search({ search: 'silva', limit: 100 }));
    expect(seen.length).toBeGreaterThan(1);
    expect(seen).toEqual(all.data.map((p) => p.id));
  });

  it('a multi-word name goes through the word keys with substring semantics, in the caller’s clinic only, audited', async () => {
    const boreal = as('admin@boreal.demo');
    // One transaction each: created_at (now()) orders them.
    const ids = [
      (
        await db.withUser(boreal, (r) =>
          r.patients.create({ full_name: 'Zuleide Ímpar da Conceição', cpf: makeCpf('613274590') }),
        )
      ).id,
      (
        await db.withUser(boreal, (r) =>
          r.patients.create({ full_name: 'Ana Zuleide Ímpar', cpf: makeCpf('613274591') }),
        )
      ).id,
    ];
    await db.withUser(as('admin@aurora.demo'), (r) =>
      r.patients.create({ full_name: 'Zuleide Ímpar Aurora', cpf: makeCpf('613274592') }),
    );
    const find = (email: string, search: string) =>
      db.withUser(as(email), async (r) => (await r.patients.search({ search })).data.map((p) => p.full_name));
    const both = ['Zuleide Ímpar da Conceição', 'Ana Zuleide Ímpar'];
    expect(await find('admin@boreal.demo', 'ZULEIDE ímpar')).toEqual(both);
    // The first word may end a name word, the last may start one; the middle is whole.
    expect(await find('admin@boreal.demo', 'uleide impar da')).toEqual(['Zuleide Ímpar da Conceição']);
    expect(await find('admin@boreal.demo', 'impar da concei')).toEqual(['Zuleide Ímpar da Conceição']);
    expect(await find('admin@boreal.demo', 'leide imp')).toEqual(both);
    // Under 3 characters after the first word: the trigram path, same answer.
    expect(await find('admin@boreal.demo', 'zuleide i')).toEqual(both);
    // Still a substring: not words in any order, and the spacing as typed.
    expect(await find('admin@boreal.demo', 'impar zuleide')).toEqual([]);
    expect(await find('admin@boreal.demo', 'zuleide  impar')).toEqual([]);
    // Another clinic's patients with the same words are not found, nor are its own found here.
    expect(await find('admin@aurora.demo', 'zuleide impar')).toEqual(['Zuleide Ímpar Aurora']);
    expect(await find('admin@aurora.demo', 'impar da conceicao')).toEqual([]);
    // Keyset pages along the word keys: every match once, in order.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await db.withUser(boreal, (r) => r.patients.search({ search: 'zuleide impar', limit: 1, cursor }));
      seen.push(...page.data.map((p) => p.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(ids);
    // The search is audited in its own transaction, with the ids it returned; a transaction that
    // fails after the search leaves no audit row (nor any result) behind.
    const audited = (requestId: string) =>
      db.withUser(boreal, async (_r, tx) =>
        (
          await tx.query<{ action: string; details: Record<string, unknown> }>(
            'select action, details from audit_log where request_id = $1',
            [requestId],
          )
        ).rows.map((a) => ({ action: a.action, by: a.details.by, patient_ids: a.details.patient_ids })),
      );
    await db.withUser(boreal, (r) => r.patients.search({ search: 'zuleide impar' }), { requestId: 'req-words-1' });
    expect(await audited('req-words-1')).toEqual([{ action: 'patient.search', by: 'name', patient_ids: ids }]);
    await expect(
      db.withUser(
        boreal,
        async (r) => {
          await r.patients.search({ search: 'zuleide impar' });
          throw new Error('after the search');
        },
        { requestId: 'req-words-2' },
      ),
    ).rejects.toThrow('after the search');
    expect(await audited('req-words-2')).toEqual([]);
    // The keys themselves: per clinic, from each word start and each word's suffixes.
    const { rows } = await owner.pool.query<{ keys: string[] }>(
      `select app.name_search_keys($1, app.search_norm('Zuleide Ímpar da Conceição')) as keys`,
      [clinics.boreal],
    );
    const tag = must(clinics.boreal, 'boreal').slice(0, 8);
    expect(must(rows[0], 'a row').keys).toEqual(
      expect.arrayContaining([
        `${tag}^zul`,
        `${tag}^impar da concei`,
        `${tag}^conceicao`,
        `${tag}leide$`,
        `${tag}cao$`,
      ]),
    );
    // Under 3 characters, nothing: '^zu', 'da$'.
    expect(must(rows[0], 'a row').keys).not.toEqual(expect.arrayContaining([`${tag}^zu`]));
    expect(must(rows[0], 'a row').keys).not.toEqual(expect.arrayContaining([`${tag}da$`]));
  });

  it('a new patient’s search keys go straight into the name indexes: no pending list for every search to scan', async () => {
    // What each GIN index on patients had pending, merged now (the owner may): a pending list is
    // scanned whole by every search, whichever clinic asks.
    const pending = async () =>
      (
        await owner.pool.query<{ index: string; pages: number }>(
          `select c.relname as index, pg_catalog.gin_clean_pending_list(c.oid)::int as pages
             from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
            where a.amname = 'gin' and i.indrelid = 'public.patients'::regclass order by 1`,
        )
      ).rows;
    await pending();
    const boreal = as('admin@boreal.demo');
    await db.withUser(boreal, (r) =>
      r.patients.create({ full_name: 'Quitéria Pendente Santos', cpf: makeCpf('613274593') }),
    );
    expect(await pending()).toEqual([
      { index: 'patients_name_keys', pages: 0 },
      { index: 'patients_name_trgm', pages: 0 },
    ]);
    const found = await db.withUser(boreal, (r) => r.patients.search({ search: 'quiteria pendente santos' }));
    expect(found.data.map((p) => p.full_name)).toEqual(['Quitéria Pendente Santos']);
  });

  it('an appointment read is one statement with its audit row (naming the patient); a hidden one audits nothing', async () => {
    const claims = as('admin@aurora.demo');
    const boreal = as('admin@boreal.demo');
    const appt = await db.withUser(claims, async (r) =>
      must((await r.appointments.list({ limit: 1 })).data[0], 'a listed item'),
    );
    const reads = (c: typeof claims) =>
      db.withUser(
        c,
        async (_r, tx) =>
          (
            await tx.query<{ request_id: string | null; patient_id: string | null }>(
              `select request_id, details->>'patient_id' as patient_id from audit_log
              where action = 'appointment.read' and subject_id = $1 order by id`,
              [appt.id],
            )
          ).rows,
      );
    const before = (await reads(claims)).length;
    const got = await db.withUserStatement(claims, (r) => r.appointments.get(appt.id), { requestId: 'req-appt-1' });
    expect(got).toEqual(appt);
    expect(got).not.toHaveProperty('audited');
    const after = await reads(claims);
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toEqual({ request_id: 'req-appt-1', patient_id: appt.patient_id });
    const borealBefore = (await reads(boreal)).length;
    await expect(db.withUserStatement(boreal, (r) => r.appointments.get(appt.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await reads(boreal)).toHaveLength(borealBefore);
    expect(await reads(claims)).toHaveLength(before + 1);
  });

  it('every patient access writes one audit row in the same transaction, and audit_log is append-only', async () => {
    const claims = as('admin@aurora.demo');
    const auditCount = () =>
      db.withUser(claims, async (_r, tx) =>
        Number(must((await tx.query<{ n: string }>('select count(*) as n from audit_log')).rows[0], 'a row').n),
      );
    const p = await db.withUser(claims, async (r) =>
      must((await r.patients.search({ limit: 1 })).data[0], 'a listed item'),
    );
    const before = await auditCount();
    // The gateway's path for GET /v1/patients/:id: preamble, statement and commit in one round trip.
    await db.withUserStatement(claims, (r) => r.patients.get(p.id), { requestId: 'req-audit-1' });
    await db.withUser(claims, (r) => r.patients.summary(p.id));
    await db.withUser(claims, (r) => r.patients.update(p.id, { phone: '+55 11 90000-0000' }));
    expect(await auditCount()).toBe(before + 3);
    const rows = await db.withUser(claims, (r) => r.audit.list({ subject_id: p.id, limit: 10 }));
    expect(rows.data.map((a) => a.action).slice(0, 3)).toEqual(['patient.update', 'patient.summary', 'patient.read']);
    expect(rows.data.find((a) => a.action === 'patient.read')).toMatchObject({
      actor_id: claims.sub,
      clinic_id: clinics.aurora,
      request_id: 'req-audit-1',
    });
    // A failed transaction leaves no audit row behind (same transaction as the access).
    await expect(
      db.withUser(claims, async (r) => {
        await r.patients.get(p.id);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await auditCount()).toBe(before + 3);
    // A read that finds nothing (another clinic's patient: 404) audits nothing, in either clinic.
    const boreal = as('admin@boreal.demo');
    const aboutP = (c: typeof claims) =>
      db.withUser(c, async (_r, tx) =>
        Number(
          must(
            (await tx.query<{ n: string }>('select count(*) as n from audit_log where subject_id = $1', [p.id]))
              .rows[0],
            'a row',
          ).n,
        ),
      );
    const borealBefore = await aboutP(boreal);
    await expect(db.withUserStatement(boreal, (r) => r.patients.get(p.id))).rejects.toBeInstanceOf(NotFoundError);
    expect(await aboutP(boreal)).toBe(borealBefore);
    expect(await auditCount()).toBe(before + 3);
    for (const sql of ['update audit_log set action = $1', 'delete from audit_log where action <> $1']) {
      await expect(db.withUser(claims, (_r, tx) => tx.query(sql, ['x']))).rejects.toMatchObject({ code: '42501' });
      // Not even the table owner: the trigger refuses.
      await expect(owner.pool.query(sql, ['x'])).rejects.toMatchObject({ code: '42501' });
    }
    await expect(db.withUser(as('recepcao@aurora.demo'), (r) => r.audit.list({}))).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('receptionists never receive nor write clinical notes', async () => {
    const list = await db.withUser(as('recepcao@aurora.demo'), (r) => r.patients.search({ limit: 5 }));
    expect(list.data.length).toBeGreaterThan(0);
    for (const p of list.data) {
      expect(p).not.toHaveProperty('clinical_notes');
    }
    const one = await db.withUser(as('recepcao@aurora.demo'), (r) =>
      r.patients.get(must(list.data[0], 'a listed item').id),
    );
    expect(one).not.toHaveProperty('clinical_notes');
    const summary = await db.withUser(as('recepcao@aurora.demo'), (r) =>
      r.patients.summary(must(list.data[0], 'a listed item').id),
    );
    expect(summary.patient).not.toHaveProperty('clinical_notes');
    await expect(
      db.withUser(as('recepcao@aurora.demo'), (r) =>
        r.patients.update(must(list.data[0], 'a listed item').id, { clinical_notes: 'x' }),
      ),
    ).rejects.toBeInstanceOf(ForbiddenError);
    // Direct SQL: the notes table's policy shows them no row and refuses their writes.
    await db.withUser(as('recepcao@aurora.demo'), async (_r, tx) => {
      expect((await tx.query('select * from patient_clinical_notes')).rowCount).toBe(0);
      const upd = await tx.query(`update patient_clinical_notes set notes = 'x' where patient_id = $1`, [
        must(list.data[0], 'a listed item').id,
      ]);
      expect(upd.rowCount).toBe(0);
    });
    await expect(
      db.withUser(as('recepcao@aurora.demo'), (_r, tx) =>
        tx.query(
          `insert into patient_clinical_notes (patient_id, clinic_id, notes) values ($1, app.current_clinic_id(), 'x')`,
          [must(list.data[0], 'a listed item').id],
        ),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    const doctor = await db.withUser(as('dra.lima@aurora.demo'), (r) =>
      r.patients.get(must(list.data[0], 'a listed item').id),
    );
    expect(doctor.clinical_notes).toEqual(expect.any(String));
  });

  it('rejects double booking, books idempotently by key, and frees the slot on cancel', async () => {
    const claims = as('admin@aurora.demo');
    const { pro, patient } = await db.withUser(claims, async (r) => ({
      pro: must((await r.professionals.findByName('souza'))[0], 'the first of r.professionals.findByName("souza")'),
      patient: must((await r.patients.search({ limit: 1 })).data[0], 'a listed item'),
    }));
    const slot = { starts_at: '2031-03-03T13:00:00Z', ends_at: '2031-03-03T14:00:00Z' };
    const first = await db.withUser(claims, (r) =>
      r.appointments.book({
        patient_id: patient.id,
        professional_id: pro.id,
        procedure: 'Avaliação',
        idempotency_key: 'k-1',
        ...slot,
      }),
    );
    expect(first.created).toBe(true);
    const again = await db.withUser(claims, (r) =>
      r.appointments.book({
        patient_id: patient.id,
        professional_id: pro.id,
        procedure: 'Avaliação',
        idempotency_key: 'k-1',
        ...slot,
      }),
    );
    expect(again).toMatchObject({ created: false, appointment: { id: first.appointment.id } });
    await expect(
      db.withUser(claims, (r) =>
        r.appointments.book({
          patient_id: patient.id,
          professional_id: pro.id,
          procedure: 'Outro',
          starts_at: '2031-03-03T13:30:00Z',
          ends_at: '2031-03-03T14:30:00Z',
        }),
      ),
    ).rejects.toBeInstanceOf(AppointmentConflictError);
    // Two concurrent bookings of the same slot: exactly one wins.
    const race = await Promise.allSettled(
      [0, 1].map(() =>
        db.withUser(claims, (r) =>
          r.appointments.book({
            patient_id: patient.id,
            professional_id: pro.id,
            procedure: 'Race',
            starts_at: '2031-04-01T13:00:00Z',
            ends_at: '2031-04-01T14:00:00Z',
          }),
        ),
      ),
    );
    expect(race.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    expect(race.find((x) => x.status === 'rejected')).toMatchObject({ reason: expect.any(AppointmentConflictError) });
    await db.withUser(claims, (r) => r.appointments.cancel(first.appointment.id));
    const rebooked = await db.withUser(claims, (r) =>
      r.appointments.book({ patient_id: patient.id, professional_id: pro.id, procedure: 'Avaliação', ...slot }),
    );
    expect(rebooked.created).toBe(true);
  });

  it('lists free slots for a professional on a date, excluding booked times', async () => {
    const claims = as('admin@aurora.demo');
    const day = new Date(Date.now() + 20 * 86400000).toISOString().slice(0, 10);
    await db.withUser(claims, async (r) => {
      const pro = must(
        (await r.professionals.findByName('campos'))[0],
        'the first of r.professionals.findByName("campos")',
      );
      const patient = must((await r.patients.search({ limit: 1 })).data[0], 'a listed item');
      const all = await r.appointments.freeSlots({ professional_id: pro.id, date: day, slot_minutes: 60 });
      expect(all).toHaveLength(10);
      await r.appointments.book({
        patient_id: patient.id,
        professional_id: pro.id,
        procedure: 'x',
        ...must(all[2], 'a third free slot'),
      });
      const after = await r.appointments.freeSlots({ professional_id: pro.id, date: day, slot_minutes: 60 });
      expect(after.map((s) => s.starts_at)).not.toContain(must(all[2], 'all[2]').starts_at);
      expect(after).toHaveLength(9);
    });
    // Another clinic cannot see those busy times through app.busy_intervals.
    const pro = await db.withUser(claims, async (r) =>
      must((await r.professionals.findByName('campos'))[0], 'the first of r.professionals.findByName("campos")'),
    );
    const busy = await db.withUser(as('admin@boreal.demo'), (_r, tx) =>
      tx.query<{ n: number }>(`select count(*)::int as n from app.busy_intervals($1, $2::date, $2::date + 1)`, [
        pro.id,
        day,
      ]),
    );
    expect(must(busy.rows[0], 'a row').n).toBe(0);
  });

  it('consents: grant, list, revoke', async () => {
    const claims = as('admin@aurora.demo');
    await db.withUser(claims, async (r) => {
      const p = must((await r.patients.search({ limit: 1 })).data[0], 'a listed item');
      const c = await r.consents.grant(p.id, { purpose: 'marketing', legal_basis: 'consent' });
      expect((await r.consents.list(p.id)).map((x) => x.id)).toContain(c.id);
      const revoked = await r.consents.revoke(p.id, c.id);
      expect(revoked.revoked_at).toEqual(expect.any(String));
      expect((await r.consents.revoke(p.id, c.id)).revoked_at).toBe(revoked.revoked_at);
    });
  });

  it('export holds everything about the patient; erasure is irreversible and idempotent', async () => {
    const claims = as('admin@aurora.demo');
    const cpf = makeCpf('111444777');
    const { patient, appt } = await db.withUser(claims, async (r) => {
      const patient = await r.patients.create({
        full_name: 'Zuleica Ferraz',
        cpf,
        email: 'zuleica@example.com',
        phone: '+55 11 95555-1234',
        clinical_notes: 'Alergia a lidocaína',
      });
      const pro = must((await r.professionals.list())[0], 'the first of r.professionals.list()');
      const appt = await r.appointments.book({
        patient_id: patient.id,
        professional_id: pro.id,
        procedure: 'Peeling',
        starts_at: '2032-05-05T12:00:00Z',
        ends_at: '2032-05-05T13:00:00Z',
        notes: 'Paciente Zuleica prefere manhã',
      });
      await r.consents.grant(patient.id, { purpose: 'treatment', legal_basis: 'health_protection' });
      const s = await r.chat.createSession('Zuleica');
      await r.chat.appendMessage(s.id, 'user', 'Agende a Zuleica Ferraz, CPF ' + cpf, 'z-1');
      // What the agent keeps with its answer: the pending proposal and the names it saw.
      await r.chat.appendMessage(s.id, 'assistant', 'Confirma?', 'z-1', {
        proposal: { action: 'book', patient_id: patient.id, patient_name: 'Zuleica Ferraz' },
        patient_names: ['Zuleica Ferraz'],
      });
      return { patient, appt: appt.appointment };
    });
    const exported = await db.withUser(claims, (r) => r.patients.export(patient.id));
    expect(exported).toMatchObject({
      patient: { id: patient.id, full_name: 'Zuleica Ferraz', cpf, clinical_notes: 'Alergia a lidocaína' },
      appointments: [expect.objectContaining({ id: appt.id, procedure: 'Peeling' })],
      consents: [expect.objectContaining({ purpose: 'treatment' })],
    });
    const actions = (exported.audit as { action: string }[]).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['patient.create', 'appointment.create', 'consent.grant', 'patient.export']),
    );
    await expect(db.withUser(as('dra.lima@aurora.demo'), (r) => r.patients.erase(patient.id))).rejects.toBeInstanceOf(
      ForbiddenError,
    );

    const first = await db.withUser(claims, (r) => r.patients.erase(patient.id));
    expect(first.already_erased).toBe(false);
    const second = await db.withUser(claims, (r) => r.patients.erase(patient.id));
    expect(second).toMatchObject({ already_erased: true, anonymized_at: first.anonymized_at });

    const tx = owner.pool;
    const after = await (async () => ({
      patient: must(
        (await tx.query<{ full_name: string }>('select * from patients where id = $1', [patient.id])).rows[0],
        'a row',
      ),
      appt: must((await tx.query('select * from appointments where id = $1', [appt.id])).rows[0], 'a row'),
      chat: must(
        (
          await tx.query<{ content: string }>(
            `select content from chat_messages where client_message_id = 'z-1' and role = 'user'`,
          )
        ).rows[0],
        'a row',
      ),
      meta: must(
        (
          await tx.query<{ metadata: Record<string, unknown> }>(
            `select metadata from chat_messages where client_message_id = 'z-1' and role = 'assistant'`,
          )
        ).rows[0],
        'a row',
      ),
      anywhere: must(
        (
          await tx.query<{ n: number }>(
            `select count(*)::int as n from patients where full_name like '%Zuleica%' or cpf = $1`,
            [cpf],
          )
        ).rows[0],
        'a row',
      ),
      audit: must(
        (
          await tx.query<{ n: number }>(
            `select count(*)::int as n from audit_log where details::text like '%Zuleica%' or details::text like $1`,
            [`%${cpf}%`],
          )
        ).rows[0],
        'a row',
      ),
      notes: must(
        (
          await tx.query<{ n: number }>('select count(*)::int as n from patient_clinical_notes where patient_id = $1', [
            patient.id,
          ])
        ).rows[0],
        'a row',
      ),
    }))();
    expect(after.patient).toMatchObject({
      cpf: null,
      email: null,
      phone: null,
      birth_date: null,
    });
    expect(after.notes.n).toBe(0);
    expect(after.patient.full_name).not.toContain('Zuleica');
    expect(after.appt).toMatchObject({ patient_id: patient.id, procedure: 'Peeling', notes: null });
    expect(after.chat.content).not.toContain('Zuleica Ferraz');
    expect(after.chat.content).not.toContain(cpf);
    // The stored names are scrubbed and the proposal for the erased patient dropped.
    expect(after.meta.metadata).toEqual({ patient_names: ['[removido]'] });
    expect(after.anywhere.n).toBe(0);
    expect(after.audit.n).toBe(0);
    await expect(
      db.withUser(claims, (r) => r.patients.update(patient.id, { full_name: 'Zuleica Ferraz' })),
    ).rejects.toMatchObject({
      code: 'patient_anonymized',
    });
    const audits = await db.withUser(claims, (r) => r.audit.list({ subject_id: patient.id }));
    expect(audits.data.filter((a) => a.action === 'patient.erase')).toHaveLength(2);
  });

  it('erasure matches normalised text: case, accents, name parts, CPF and phone in any punctuation, quotes in metadata', async () => {
    const admin = as('admin@aurora.demo');
    const cpf = makeCpf('222555888');
    const { patient, mine } = await db.withUser(admin, async (r) => {
      const patient = await r.patients.create({
        full_name: 'Ângela D"Ávila Brandão',
        cpf,
        phone: '+55 11 91234-5678',
        email: 'Angela.Brandao@example.com',
      });
      const s = await r.chat.createSession('x');
      const m = await r.chat.appendMessage(
        s.id,
        'user',
        `a angela davila brandao ligou do (11) 91234-5678; CPF ${cpf.slice(0, 3)}.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-${cpf.slice(9)}, e-mail angela.brandao@EXAMPLE.com. Depois a Ângela voltou; ANGELA BRANDAO confirmou, 912345678.`,
        'e-1',
        { patient_names: ['Ângela D"Ávila Brandão'], note: { who: 'angela brandão' } },
      );
      return { patient, mine: m.message.id };
    });
    // Another user's session that never mentions the patient keeps an unrelated "Ângela".
    const other = await db.withUser(as('recepcao@aurora.demo'), async (r) => {
      const s = await r.chat.createSession('y');
      return (await r.chat.appendMessage(s.id, 'user', 'A Ângela Souza chega às 10h', 'o-1')).message.id;
    });
    await db.withUser(admin, (r) => r.patients.erase(patient.id));
    const rows = (
      await owner.pool.query<{ id: string; content: string; metadata: Record<string, unknown> }>(
        'select id, content, metadata from chat_messages where id = any($1)',
        [[mine, other]],
      )
    ).rows;
    const redacted = rows.find((r) => r.id === mine)!;
    for (const secret of [
      /ang[eê]la/i,
      /brand[aã]o/i,
      /d"?[aá]vila/i,
      /1234-?5678/,
      /912345678/,
      cpf.slice(0, 3),
      /example\.com/i,
    ]) {
      expect({ secret: String(secret), content: redacted.content }).not.toEqual(
        expect.objectContaining({ content: expect.stringMatching(secret) }),
      );
    }
    expect(JSON.stringify(redacted.metadata)).not.toMatch(/ngela|Brand|vila/);
    expect(redacted.metadata).toEqual({ patient_names: ['[removido]'], note: { who: '[removido]' } });
    // A session that never mentioned the patient keeps another Ângela's first name.
    expect(rows.find((r) => r.id === other)!.content).toBe('A Ângela Souza chega às 10h');
  });

  it('the audit of a patient lists the searches and listings that returned them; export holds their chat mentions', async () => {
    const admin = as('admin@aurora.demo');
    const rec = as('recepcao@aurora.demo');
    const target = must((await db.withUser(admin, (r) => r.patients.search({ limit: 1 }))).data[0], 'a listed item');
    await db.withUser(rec, (r) => r.patients.search({ search: target.full_name.split(' ')[0] }), {
      requestId: 'server-req-1',
      clientRequestId: 'client-chosen',
    });
    const page = await db.withUser(admin, (r) => r.audit.list({ subject_id: target.id, limit: 50 }));
    const search = page.data.find((a) => a.actor_id === rec.sub && a.action === 'patient.search');
    expect(search).toMatchObject({
      request_id: 'server-req-1',
      details: expect.objectContaining({
        client_request_id: 'client-chosen',
        patient_ids: expect.arrayContaining([target.id]),
      }),
    });
    await db.withUser(rec, async (r) => {
      const s = await r.chat.createSession('z');
      await r.chat.appendMessage(s.id, 'user', `remarcar ${target.full_name.toLowerCase()}`, 'x-1');
    });
    const exported = await db.withUser(admin, (r) => r.patients.export(target.id));
    expect(exported.chat_messages).toEqual([
      expect.objectContaining({ content: `remarcar ${target.full_name.toLowerCase()}` }),
    ]);
    expect((exported.audit as { action: string }[]).some((a) => a.action === 'patient.search')).toBe(true);
  });

  it('chat: sessions are private to their owner; a retried message is stored once', async () => {
    const lima = as('dra.lima@aurora.demo');
    const s = await db.withUser(lima, (r) => r.chat.createSession('Agenda', '6f1c2b1e-0000-4000-8000-000000000001'));
    const a = await db.withUser(lima, (r) => r.chat.appendMessage(s.id, 'user', 'Oi', 'm-1'));
    const b = await db.withUser(lima, (r) => r.chat.appendMessage(s.id, 'user', 'Oi', 'm-1'));
    expect(b).toMatchObject({ created: false, message: { id: a.message.id } });
    expect(await db.withUser(lima, (r) => r.chat.messages(s.id))).toHaveLength(1);
    // Same clinic, another user: invisible, and cannot be adopted.
    await expect(db.withUser(as('admin@aurora.demo'), (r) => r.chat.messages(s.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const admin = as('admin@aurora.demo');
    expect(
      await db.withUser(admin, (r) =>
        r.chat.beginTurn(admin.sub, { sessionId: s.id, turnKey: 'm-2', content: 'Oi', historyRows: 0 }),
      ),
    ).toMatchObject({ outcome: 'session_not_found' });
    expect(await db.withUser(lima, (r) => r.chat.messages(s.id))).toHaveLength(1);
    await db.withUser(lima, (r) => r.chat.deleteSession(s.id));
    expect(await db.withUser(lima, (r) => r.chat.listSessions())).toEqual([]);
  });

  it('a failed preamble is the error withUser reports, and the pipelined statement behind it changes nothing', async () => {
    // A login that may not become `authenticated`: the preamble's `set local role` fails.
    const role = `np_no_role_${process.pid}_${Date.now().toString(36)}`;
    await owner.pool.query(`create role ${role} login`);
    const url = new URL(tdb.url);
    url.username = role;
    url.password = '';
    const outsider = new Database({ url: url.toString(), poolMax: 1 });
    try {
      const lima = as('dra.lima@aurora.demo');
      const before = await owner.pool.query<{ n: number }>('select count(*)::int as n from public.chat_sessions');
      await expect(outsider.withUser(lima, (r) => r.chat.createSession('nunca'))).rejects.toMatchObject({
        code: '42501',
        message: expect.stringContaining('permission denied to set role'),
      });
      const after = await owner.pool.query<{ n: number }>('select count(*)::int as n from public.chat_sessions');
      expect(after.rows[0]).toEqual(before.rows[0]);
      // The connection is clean for the next transaction (no transaction left open or aborted).
      const status = await outsider.pool.query<{ active: boolean }>('select now() = statement_timestamp() as active');
      expect(status.rows[0]).toEqual({ active: true });
    } finally {
      await outsider.close();
      await owner.pool.query(`drop role ${role}`);
    }
  });

  it('withUserStatement commits its one statement, refuses a second or a late one, and leaves a failed one uncommitted', async () => {
    const single = new Database({ url: tdb.serviceUrl, poolMax: 1 });
    try {
      const lima = as('dra.lima@aurora.demo');
      const sessionId = '6f1c2b1e-0000-4000-8000-00000000a001';
      const turn = { sessionId, turnKey: 'k-1', content: 'Oi', historyRows: 8 };
      const began = await single.withUserStatement(lima, (r) => r.chat.beginTurn(lima.sub, turn));
      // A new session: nothing before the turn's own message, which the history leaves out.
      expect(began).toEqual({ outcome: 'new', member: expect.any(Object), history: [] });
      const stored = await owner.pool.query('select role from public.chat_messages where session_id = $1', [sessionId]);
      expect(stored.rows).toEqual([{ role: 'user' }]);

      // A second statement, or one sent after an await, is refused and never sent. (The statement
      // sent at once was committed with it: the commit is already on the wire behind it.)
      await expect(
        single.withUserStatement(lima, async (r) => {
          await r.chat.appendMessage(sessionId, 'user', 'dois', 'k-2');
          return r.chat.appendMessage(sessionId, 'user', 'três', 'k-3');
        }),
      ).rejects.toThrow('withUserStatement: one statement');
      await expect(
        single.withUserStatement(lima, async (r) => {
          await Promise.resolve();
          return r.chat.appendMessage(sessionId, 'user', 'quatro', 'k-4');
        }),
      ).rejects.toThrow('withUserStatement: one statement');
      // A failing statement: its error, and nothing of it committed (no answer, no usage row).
      await expect(
        single.withUserStatement(lima, (r) =>
          r.chat.appendAnswer(
            sessionId,
            'x',
            'k-1',
            {},
            {
              session_id: sessionId,
              provider: 'local',
              model: 'm',
              input_tokens: 1,
              output_tokens: 1,
              tokens_reported: false,
              tool_calls: 0,
              duration_ms: 1,
              outcome: 'not-an-outcome' as 'ok',
            },
          ),
        ),
      ).rejects.toMatchObject({ code: '23514' });
      const after = await owner.pool.query(
        'select role, content from public.chat_messages where session_id = $1 order by created_at',
        [sessionId],
      );
      expect(after.rows).toEqual([
        { role: 'user', content: 'Oi' },
        { role: 'user', content: 'dois' },
      ]);
      // The connection is clean, the role reset: the next transaction works as usual.
      const again = await single.withUserStatement(lima, (r) => r.chat.beginTurn(lima.sub, turn));
      expect(again).toMatchObject({ outcome: 'retry' });
      const role = await single.pool.query<{ role: string }>('select current_user::text as role');
      expect(role.rows[0]).toEqual({ role: 'neonpro_authenticator' });
    } finally {
      await single.close();
    }
  });

  it("beginTurn's history stops at the message that brings the characters read to historyChars, the turn's own not counted", async () => {
    const lima = as('dra.lima@aurora.demo');
    const sessionId = '6f1c2b1e-0000-4000-8000-00000000a0c1';
    // Ten older messages of 10 characters each, oldest first (one transaction each: `created_at`
    // is the transaction's time).
    await db.withUser(lima, (r) => r.chat.createSession(null, sessionId));
    for (let i = 0; i < 10; i++) {
      await db.withUser(lima, (r) =>
        r.chat.appendMessage(sessionId, i % 2 ? 'assistant' : 'user', `mensagem ${i}`, `old-${i}`),
      );
    }
    const begin = (historyChars?: number) =>
      db.withUserStatement(lima, (r) =>
        r.chat.beginTurn(lima.sub, {
          sessionId,
          turnKey: 'now',
          content: 'a long question that the bound does not count',
          historyRows: 8,
          historyChars,
        }),
      );
    const contents = (b: Awaited<ReturnType<typeof begin>>) =>
      b.outcome === 'new' || b.outcome === 'retry' ? b.history.map((m) => m.content) : b.outcome;
    // The turn's own message is read but neither returned nor counted: 10 + 10 + 10 < 31 ≤ 40, so
    // the fourth message crosses the bound and is the last.
    const crossed = await begin(31);
    expect(contents(crossed)).toEqual(['mensagem 9', 'mensagem 8', 'mensagem 7', 'mensagem 6']);
    // Each message is what the model is given, no more; the bound was reached, so no cursor.
    expect(crossed).toMatchObject({ outcome: 'new' });
    expect(crossed.outcome === 'new' && crossed.history[0]).toEqual({
      role: 'assistant',
      content: 'mensagem 9',
      metadata: {},
    });
    expect(crossed).not.toHaveProperty('before');
    // Exactly on a boundary: the message that reaches it is the last.
    expect(contents(await begin(30))).toEqual(['mensagem 9', 'mensagem 8', 'mensagem 7']);
    // No bound: the 8 rows asked for, the turn's own among them, and where older ones start.
    const unbounded = await begin();
    expect(contents(unbounded)).toEqual([9, 8, 7, 6, 5, 4, 3].map((i) => `mensagem ${i}`));
    const before = unbounded.outcome === 'retry' ? unbounded.before : undefined;
    expect(before).toEqual({ created_at: expect.any(String), id: expect.any(String) });
    const older = await db.withUser(lima, (r) => r.chat.recentTurns(sessionId, 8, before));
    expect(older.map((m) => m.content)).toEqual(['mensagem 2', 'mensagem 1', 'mensagem 0']);
    // A bound the session does not reach: the rows asked for, as without one.
    expect(await begin(1_000_000)).toEqual(unbounded);
    // More rows asked for than the session has: all of it, and no cursor.
    const whole = await db.withUserStatement(lima, (r) =>
      r.chat.beginTurn(lima.sub, { sessionId, turnKey: 'now', content: 'x', historyRows: 12 }),
    );
    expect(contents(whole)).toHaveLength(10);
    expect(whole).not.toHaveProperty('before');
    // The previous release's agents call it with five arguments during a rollout: no bound, and
    // full rows, the turn's own message included, as before.
    const legacy = await db.withUser(lima, async (_r, tx) => {
      const res = await tx.query<{ outcome: string; history: Record<string, unknown>[] }>(
        'select outcome, history from app.chat_begin_turn($1, $2, $3, $4, $5)',
        [lima.sub, sessionId, 'now', 'a long question that the bound does not count', 8],
      );
      return res.rows[0];
    });
    expect(legacy?.outcome).toBe('retry');
    expect(legacy?.history.map((m) => m.content)).toEqual([
      'a long question that the bound does not count',
      ...[9, 8, 7, 6, 5, 4, 3].map((i) => `mensagem ${i}`),
    ]);
    expect(Object.keys(legacy?.history[0] ?? {}).sort()).toEqual([
      'client_message_id',
      'content',
      'created_at',
      'id',
      'metadata',
      'role',
      'session_id',
    ]);
  });

  it("app.chat_begin_turn: the caller's own membership and sessions only, under RLS", async () => {
    const lima = as('dra.lima@aurora.demo');
    const admin = as('admin@aurora.demo');
    const sessionId = '6f1c2b1e-0000-4000-8000-00000000a002';
    const turn = { sessionId, turnKey: 'k-1', content: 'Oi', historyRows: 0 };
    // Another user's sub passed by a caller: their membership is not visible, nothing is written.
    expect(
      await db.withUser(lima, (r) => r.chat.beginTurn(must(users['admin@boreal.demo'], 'boreal').sub, turn)),
    ).toEqual({
      outcome: 'not_member',
    });
    const mine = await db.withUser(lima, (r) => r.chat.beginTurn(lima.sub, turn));
    expect(mine).toMatchObject({ outcome: 'new', history: [] });
    expect(await db.withUser(admin, (r) => r.chat.beginTurn(admin.sub, turn))).toMatchObject({
      outcome: 'session_not_found',
    });
    const rows = await owner.pool.query('select user_id from public.chat_sessions where id = $1', [sessionId]);
    expect(rows.rows).toEqual([{ user_id: lima.sub }]);
  });

  it('a turn touches its session once: the user message does (not right after inserting it), the answer does not', async () => {
    const lima = as('dra.lima@aurora.demo');
    const sessionId = '6f1c2b1e-0000-4000-8000-00000000a003';
    // What `step` wrote to chat_sessions: the backend's not-yet-flushed counters (pg_stat_xact_*),
    // read before and after it in the same transaction, where nothing flushes them in between.
    const sessionWrites = async <T>(
      tx: Queryable,
      step: () => Promise<T>,
    ): Promise<[T, { ins: number; upd: number }]> => {
      const read = async () => {
        const r = await tx.query<{ ins: string; upd: string }>(
          `select n_tup_ins as ins, n_tup_upd as upd from pg_stat_xact_user_tables where relid = 'public.chat_sessions'::regclass`,
        );
        return { ins: Number(r.rows[0]?.ins), upd: Number(r.rows[0]?.upd) };
      };
      const before = await read();
      const out = await step();
      const after = await read();
      return [out, { ins: after.ins - before.ins, upd: after.upd - before.upd }];
    };
    const updatedAt = async (): Promise<string> =>
      (
        await owner.pool.query<{ at: string }>(
          'select updated_at::text as at from public.chat_sessions where id = $1',
          [sessionId],
        )
      ).rows[0]!.at;
    const turn = (turnKey: string) => ({ sessionId, turnKey, content: 'Oi', historyRows: 0 });

    const first = await db.withUser(lima, async (r, tx) => {
      const [began, writes] = await sessionWrites(tx, () => r.chat.beginTurn(lima.sub, turn('t-1')));
      return { began, writes };
    });
    expect(first).toEqual({
      began: { outcome: 'new', member: expect.anything(), history: [] },
      writes: { ins: 1, upd: 0 },
    });
    const created = await updatedAt();

    const answered = await db.withUser(lima, async (r, tx) => {
      const [a, writes] = await sessionWrites(tx, () => r.chat.appendAnswer(sessionId, 'Olá!', 't-1'));
      return { a, writes };
    });
    expect(answered).toEqual({ a: { created: true }, writes: { ins: 0, upd: 0 } });
    expect(await updatedAt()).toBe(created);

    const second = await db.withUser(lima, async (r, tx) => {
      const [began, writes] = await sessionWrites(tx, () => r.chat.beginTurn(lima.sub, turn('t-2')));
      return { outcome: began.outcome, writes };
    });
    expect(second).toEqual({ outcome: 'new', writes: { ins: 0, upd: 1 } });
    expect(await updatedAt()).not.toBe(created);

    // A retried message (stored already) touches nothing.
    const retried = await db.withUser(lima, async (r, tx) => {
      const [began, writes] = await sessionWrites(tx, () => r.chat.beginTurn(lima.sub, turn('t-2')));
      return { outcome: began.outcome, writes };
    });
    expect(retried).toEqual({ outcome: 'retry', writes: { ins: 0, upd: 0 } });
  });

  it("a session's messages are read without looking at chat_sessions: the owner is on the row", async () => {
    const lima = as('dra.lima@aurora.demo');
    const sessionId = '6f1c2b1e-0000-4000-8000-00000000a005';
    // Other sessions of the same user: a policy that looked the owner up would read them too.
    for (let i = 0; i < 5; i++) {
      await db.withUser(lima, (r) => r.chat.createSession(`outra ${i}`));
    }
    await db.withUser(lima, (r) =>
      r.chat.beginTurn(lima.sub, { sessionId, turnKey: 't-1', content: 'Oi', historyRows: 0 }),
    );
    await db.withUser(lima, (r) => r.chat.appendAnswer(sessionId, 'Olá!', 't-1'));
    // Scans of chat_sessions by `step` (sequential and index, bitmap included), from the backend's
    // not-yet-flushed counters, as above.
    const scans = async (tx: Queryable) =>
      Number(
        must(
          (
            await tx.query<{ n: string }>(
              `select seq_scan + coalesce(idx_scan, 0) as n from pg_stat_xact_user_tables where relid = 'public.chat_sessions'::regclass`,
            )
          ).rows[0],
          'chat_sessions counters',
        ).n,
      );
    const read = await db.withUser(lima, async (r, tx) => {
      const before = await scans(tx);
      const rows = await r.chat.recentTurns(sessionId, 32);
      return { roles: rows.map((m) => m.role), scans: (await scans(tx)) - before };
    });
    expect(read).toEqual({ roles: ['assistant', 'user'], scans: 0 });
    const stored = await owner.pool.query('select distinct user_id from public.chat_messages where session_id = $1', [
      sessionId,
    ]);
    expect(stored.rows).toEqual([{ user_id: lima.sub }]);
  });

  it("chat messages: a colleague of the same clinic can neither read, write into nor take over a user's session", async () => {
    const lima = as('dra.lima@aurora.demo');
    const recepcao = as('recepcao@aurora.demo');
    const sessionId = '6f1c2b1e-0000-4000-8000-00000000a006';
    await db.withUser(lima, (r) =>
      r.chat.beginTurn(lima.sub, { sessionId, turnKey: 't-1', content: 'Oi', historyRows: 0 }),
    );
    const messageId = must(
      (await owner.pool.query<{ id: string }>('select id from public.chat_messages where session_id = $1', [sessionId]))
        .rows[0],
      'the message',
    ).id;
    await db.withUser(recepcao, async (_r, tx) => {
      expect((await tx.query('select 1 from chat_messages where session_id = $1', [sessionId])).rowCount).toBe(0);
      expect((await tx.query(`update chat_messages set content = 'x' where id = $1`, [messageId])).rowCount).toBe(0);
    });
    const clinic = clinics.aurora;
    const attempts: [string, unknown[]][] = [
      // Into lima's session under the colleague's own id (the default): the key finds no such session.
      [
        `insert into chat_messages (clinic_id, session_id, role, content) values ($1, $2, 'user', 'x')`,
        [clinic, sessionId],
      ],
      // Under lima's id: the policy wants the caller's.
      [
        `insert into chat_messages (clinic_id, session_id, user_id, role, content) values ($1, $2, $3, 'user', 'x')`,
        [clinic, sessionId, lima.sub],
      ],
    ];
    for (const [sql, values] of attempts) {
      await expect(db.withUser(recepcao, (_r, tx) => tx.query(sql, values))).rejects.toMatchObject({
        code: expect.stringMatching(/^(42501|23503)$/),
      });
    }
    // Lima cannot hand her message to the colleague, nor move it into a session that is not hers.
    const other = await db.withUser(recepcao, (r) => r.chat.createSession('da recepção'));
    for (const [sql, values] of [
      ['update chat_messages set user_id = $2 where id = $1', [messageId, recepcao.sub]],
      ['update chat_messages set session_id = $2 where id = $1', [messageId, other.id]],
    ] as [string, unknown[]][]) {
      await expect(db.withUser(lima, (_r, tx) => tx.query(sql, values))).rejects.toMatchObject({
        code: expect.stringMatching(/^(42501|23503)$/),
      });
    }
    const after = await owner.pool.query(
      'select session_id, user_id, content from public.chat_messages where id = $1',
      [messageId],
    );
    expect(after.rows).toEqual([{ session_id: sessionId, user_id: lima.sub, content: 'Oi' }]);
  });

  it("a message's session key is checked at commit: a wrong owner still fails its transaction", async () => {
    const lima = as('dra.lima@aurora.demo');
    const recepcao = as('recepcao@aurora.demo');
    const sessionId = '6f1c2b1e-0000-4000-8000-00000000a007';
    await db.withUser(lima, (r) =>
      r.chat.beginTurn(lima.sub, { sessionId, turnKey: 't-1', content: 'Oi', historyRows: 0 }),
    );
    // As the owner (no RLS), so that only the key stands in the way.
    const client = await owner.pool.connect();
    try {
      await client.query('begin');
      const inserted = await client.query(
        `insert into public.chat_messages (clinic_id, session_id, user_id, role, content) values ($1, $2, $3, 'user', 'x')`,
        [clinics.aurora, sessionId, recepcao.sub],
      );
      // Deferred (migration 20261202000700): the statement passes, the commit refuses.
      expect(inserted.rowCount).toBe(1);
      await expect(client.query('commit')).rejects.toMatchObject({ code: '23503' });
    } finally {
      // Never hand the pool a client inside a transaction, whatever failed above.
      await client.query('rollback').catch(() => undefined);
      client.release();
    }
    const n = await owner.pool.query<{ n: number }>(
      'select count(*)::int as n from public.chat_messages where session_id = $1',
      [sessionId],
    );
    expect(n.rows).toEqual([{ n: 1 }]);
  });

  it('asynchronousCommit turns off synchronous_commit for its own transaction only, and still commits', async () => {
    const single = new Database({ url: tdb.serviceUrl, poolMax: 1 });
    try {
      const lima = as('dra.lima@aurora.demo');
      const setting = (opts: UserTxOptions) =>
        single.withUser(
          lima,
          async (_r, tx) =>
            (await tx.query<{ s: string }>(`select current_setting('synchronous_commit') as s`)).rows[0]!.s,
          opts,
        );
      expect(await setting({ asynchronousCommit: true })).toBe('off');
      expect(await setting({})).toBe('on');
      const sessionId = '6f1c2b1e-0000-4000-8000-00000000a004';
      const began = await single.withUserStatement(
        lima,
        (r) => r.chat.beginTurn(lima.sub, { sessionId, turnKey: 'k-1', content: 'Oi', historyRows: 0 }),
        { asynchronousCommit: true },
      );
      expect(began.outcome).toBe('new');
      const stored = await owner.pool.query('select role from public.chat_messages where session_id = $1', [sessionId]);
      expect(stored.rows).toEqual([{ role: 'user' }]);
      const after = await single.pool.query<{ s: string }>(`select current_setting('synchronous_commit') as s`);
      expect(after.rows[0]).toEqual({ s: 'on' });
    } finally {
      await single.close();
    }
  });

  it("withUser's caller settings (claims, the sub auth.uid() reads first, the role) last for its transaction only", async () => {
    // One connection, so the second statement runs on the client the transaction used.
    const single = new Database({ url: tdb.serviceUrl, poolMax: 1 });
    try {
      const lima = as('dra.lima@aurora.demo');
      const inside = await single.withUser(lima, async (_r, tx) => {
        const r = await tx.query<{ uid: string; sub: string; claims_sub: string; role: string }>(
          `select auth.uid()::text as uid, current_setting('request.jwt.claim.sub') as sub,
                  current_setting('request.jwt.claims')::jsonb ->> 'sub' as claims_sub, current_user::text as role`,
        );
        return r.rows[0];
      });
      expect(inside).toEqual({ uid: lima.sub, sub: lima.sub, claims_sub: lima.sub, role: 'authenticated' });
      const after = await single.pool.query<{ sub: string; claims: string; role: string }>(
        `select coalesce(current_setting('request.jwt.claim.sub', true), '') as sub,
                coalesce(current_setting('request.jwt.claims', true), '') as claims, current_user::text as role`,
      );
      expect(after.rows[0]).toEqual({ sub: '', claims: '', role: 'neonpro_authenticator' });
    } finally {
      await single.close();
    }
  });
  it('migrations are recorded with checksums and safe to run concurrently', async () => {
    const fresh = await createTestDatabase();
    const other = new Database({ url: fresh.url, poolMax: 4 });
    try {
      const dir = join(findSupabaseDir(), 'migrations');
      const runs = await Promise.all([runMigrations(other.pool, dir), runMigrations(other.pool, dir)]);
      expect(runs.every((r) => r.applied.length === 0 && r.skipped.length >= 2)).toBe(true);
      const recorded = await other.pool.query('select version, checksum from neonpro_migrations.applied');
      expect(recorded.rows.every((r: { checksum: string }) => /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);
    } finally {
      await other.close();
      await fresh.drop();
    }
  });
});
