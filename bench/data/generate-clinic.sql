-- A synthetic clinic at scale, built entirely inside Postgres (generate_series, no row-by-row
-- round trips): an admin user, professionals, patients and appointments. Deterministic for a
-- given slug and counts. Run by bench/data/generate-clinic.mjs, which sets the psql-style
-- settings below through set_config before executing this file.
--   bench.slug, bench.patients, bench.appointments, bench.professionals, bench.password
-- All people and CPFs are synthetic.

-- Foreign keys and touch triggers are satisfied by construction; skipping their per-row
-- triggers makes 1M appointments a matter of seconds. The exclusion constraint (no double
-- booking) is not a trigger and is still enforced.
set session_replication_role = replica;

create or replace function pg_temp.bench_uuid(k text) returns uuid language sql immutable as
  $$ select md5('neonpro-bench:' || k)::uuid $$;

-- A valid CPF whose nine base digits are 100000000 + n (unique per n, never all-equal digits).
create or replace function pg_temp.bench_cpf(n int) returns text language plpgsql immutable as $$
declare base text := (100000000 + n)::text; s int := 0; d1 int; d2 int;
begin
  for i in 1..9 loop s := s + substr(base, i, 1)::int * (11 - i); end loop;
  d1 := (s * 10) % 11; if d1 = 10 then d1 := 0; end if;
  s := 0;
  for i in 1..9 loop s := s + substr(base, i, 1)::int * (12 - i); end loop;
  s := s + d1 * 2;
  d2 := (s * 10) % 11; if d2 = 10 then d2 := 0; end if;
  return base || d1 || d2;
end $$;

insert into public.clinics (id, slug, name, opening_hours)
select pg_temp.bench_uuid('clinic:' || current_setting('bench.slug')), current_setting('bench.slug'),
       'Clínica Bench ' || current_setting('bench.slug'), '{"mon-sun": "08:00-18:00"}'
on conflict do nothing;

insert into auth.users (id, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
select pg_temp.bench_uuid('user:' || current_setting('bench.slug')),
       'admin@' || current_setting('bench.slug') || '.bench',
       extensions.crypt(current_setting('bench.password'), extensions.gen_salt('bf', 4)),
       now(), '{"provider": "email", "providers": ["email"]}'::jsonb, '{"full_name": "Admin Bench"}'::jsonb
on conflict do nothing;

insert into public.clinic_members (clinic_id, user_id, role)
select pg_temp.bench_uuid('clinic:' || current_setting('bench.slug')),
       pg_temp.bench_uuid('user:' || current_setting('bench.slug')), 'admin'
on conflict do nothing;

insert into public.professionals (id, clinic_id, full_name, specialty)
select pg_temp.bench_uuid('pro:' || current_setting('bench.slug') || ':' || g),
       pg_temp.bench_uuid('clinic:' || current_setting('bench.slug')),
       -- Professional 0 has a name of its own, so a chat turn can name one professional.
       case when g = 0 then 'Dra. Almeida' else (array['Dra.', 'Dr.', 'Enf.'])[1 + g % 3] || ' Profissional ' || g end,
       (array['Dermatologia', 'Harmonização facial', 'Estética corporal', 'Nutrologia'])[1 + g % 4]
from generate_series(0, current_setting('bench.professionals')::int - 1) g
on conflict do nothing;

-- Names: 40 first names x 30 surnames x 30 surnames, accents included, so a search term
-- matches anywhere from a handful to a few thousand rows, as in a real clinic.
with first_names(i, name) as (
  select ordinality::int - 1, n from unnest(array['Ana','João','Maria','José','Luíza','Antônio','Beatriz','Conceição',
    'Márcia','Sérgio','Fábio','Letícia','Cláudia','Vinícius','Mônica','Lúcia','André','Júlia','Rafael','Patrícia',
    'Thaís','Caio','Débora','Otávio','Íris','Gustavo','Helena','Igor','Jéssica','Kátia','Leonardo','Mirela','Natália',
    'Orlando','Paulo','Quitéria','Renata','Simone','Tânia','Úrsula']) with ordinality as t(n)),
last_names(i, name) as (
  select ordinality::int - 1, n from unnest(array['Silva','Santos','Oliveira','Souza','Araújo','Pereira','Gonçalves',
    'Conceição','Simões','Magalhães','Câmara','Brandão','Assunção','Lopes','Fonseca','Galvão','Estêvão','Rocha',
    'Ribeiro','Carvalho','Gomes','Martins','Barbosa','Teixeira','Moreira','Cardoso','Nascimento','Mendes','Freitas',
    'Vasconcelos']) with ordinality as t(n))
insert into public.patients (id, clinic_id, full_name, cpf, birth_date, phone, email, created_at)
select pg_temp.bench_uuid('patient:' || current_setting('bench.slug') || ':' || g),
       pg_temp.bench_uuid('clinic:' || current_setting('bench.slug')),
       f.name || ' ' || l.name || ' ' || l2.name,
       pg_temp.bench_cpf(g),
       date '1950-01-01' + (g * 397 % 25000),
       '+55 11 9' || lpad((g * 7331 % 100000000)::text, 8, '0'),
       'paciente' || g || '@' || current_setting('bench.slug') || '.example',
       timestamptz '2020-01-01' + make_interval(mins => g * 7)
from generate_series(1, current_setting('bench.patients')::int) g
join first_names f on f.i = g % 40
join last_names l on l.i = (g / 40) % 30
join last_names l2 on l2.i = (g * 7 / 1200) % 30
on conflict do nothing;

-- Bulk load: the appointments table's indexes and constraints (primary key, unique, the no
-- double booking exclusion) are dropped and rebuilt after the insert, from their own catalogued
-- definitions (pg_get_constraintdef / pg_get_indexdef, so nothing here restates the schema).
-- Building an index once over sorted data is many times faster than a million inserts into it.
set maintenance_work_mem = '256MB';
drop table if exists pg_temp.bench_saved_defs;
create temp table bench_saved_defs as
  select 'c' as kind, c.conname::text as name, pg_get_constraintdef(c.oid) as def from pg_constraint c
   where c.conrelid = 'public.appointments'::regclass and c.contype in ('p', 'u', 'x')
  union all
  select 'i', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i
   where i.indrelid = 'public.appointments'::regclass
     and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid);
do $$ declare r record; begin
  for r in select * from bench_saved_defs loop
    if r.kind = 'c' then execute format('alter table public.appointments drop constraint %I', r.name);
    else execute format('drop index %s', r.name); end if;
  end loop;
end $$;

-- Appointments: appointment k goes to professional k % P, in that professional's (k / P)-th
-- 30-minute slot, 20 slots a day from 08:00 clinic time, days counted back from today so a
-- fifth of them lie ahead. Slots never overlap, so the exclusion constraint accepts them all.
with params as (
  select current_setting('bench.professionals')::int as np,
         current_setting('bench.patients')::int as npat,
         current_setting('bench.appointments')::int as nappt
),
k as (
  select g, g % params.np as pro, g / params.np as slot, params.npat,
         (params.nappt / params.np) / 20 as days
  from params, generate_series(0, (select nappt from params) - 1) g
),
t as (
  select k.*, ((current_date - (k.days * 4 / 5) + k.slot / 20)::timestamp + time '08:00'
               + make_interval(mins => (k.slot % 20) * 30)) at time zone 'America/Sao_Paulo' as starts_at
  from k
)
insert into public.appointments (id, clinic_id, patient_id, professional_id, starts_at, ends_at, procedure, status, created_at)
select pg_temp.bench_uuid('appt:' || current_setting('bench.slug') || ':' || t.g),
       pg_temp.bench_uuid('clinic:' || current_setting('bench.slug')),
       pg_temp.bench_uuid('patient:' || current_setting('bench.slug') || ':' || (1 + (t.g::bigint * 7919) % t.npat)),
       pg_temp.bench_uuid('pro:' || current_setting('bench.slug') || ':' || t.pro),
       t.starts_at, t.starts_at + interval '30 minutes',
       (array['Limpeza de pele', 'Toxina botulínica', 'Preenchimento', 'Peeling', 'Consulta'])[1 + t.g % 5],
       case when t.starts_at >= now() then (array['scheduled', 'confirmed'])[1 + t.g % 2]
            else (array['completed', 'completed', 'completed', 'no_show', 'cancelled'])[1 + t.g % 5] end,
       t.starts_at - interval '7 days'
from t
-- Idempotent without the unique indexes: a clinic that has appointments gets none added.
where not exists (select 1 from public.appointments a
                   where a.clinic_id = pg_temp.bench_uuid('clinic:' || current_setting('bench.slug')));

do $$ declare r record; begin
  for r in select * from bench_saved_defs where kind = 'i' loop execute r.def; end loop;
  for r in select * from bench_saved_defs where kind = 'c' loop
    execute format('alter table public.appointments add constraint %I %s', r.name, r.def);
  end loop;
end $$;
drop table pg_temp.bench_saved_defs;

set session_replication_role = origin;
