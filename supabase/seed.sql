-- Demo data: two clinics, their users, professionals, ~50 synthetic patients each and
-- appointments over the 14 days from today (America/Sao_Paulo). Every row has a deterministic
-- key and is inserted with ON CONFLICT DO NOTHING, so re-running the seed duplicates nothing.
-- The password comes from the setting neonpro.demo_password (npm run db:seed sets it from
-- DEMO_PASSWORD), default neonpro-demo. All people and CPFs here are synthetic.

create or replace function pg_temp.seed_uuid(k text) returns uuid language sql immutable as
  $$ select md5('neonpro-seed:' || k)::uuid $$;

-- A valid CPF built from nine base digits.
create or replace function pg_temp.seed_cpf(n int) returns text language plpgsql immutable as $$
declare base text := lpad(((n * 7919 + 104729) % 1000000000)::text, 9, '1'); s int := 0; d1 int; d2 int;
begin
  for i in 1..9 loop s := s + substr(base, i, 1)::int * (11 - i); end loop;
  d1 := (s * 10) % 11; if d1 = 10 then d1 := 0; end if;
  s := 0;
  for i in 1..9 loop s := s + substr(base, i, 1)::int * (12 - i); end loop;
  s := s + d1 * 2;
  d2 := (s * 10) % 11; if d2 = 10 then d2 := 0; end if;
  return base || d1 || d2;
end $$;

insert into public.clinics (id, slug, name, phone, address, opening_hours) values
  (pg_temp.seed_uuid('clinic:aurora'), 'aurora', 'Clínica Aurora', '+55 11 4000-1000',
   'Av. Paulista, 1000 - São Paulo, SP', '{"mon-fri": "08:00-18:00", "sat": "08:00-12:00"}'),
  (pg_temp.seed_uuid('clinic:boreal'), 'boreal', 'Clínica Boreal', '+55 21 4000-2000',
   'Rua Visconde de Pirajá, 200 - Rio de Janeiro, RJ', '{"mon-fri": "09:00-19:00"}')
on conflict do nothing;

insert into auth.users (id, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
select pg_temp.seed_uuid('user:' || u.email), u.email,
       extensions.crypt(coalesce(nullif(current_setting('neonpro.demo_password', true), ''), 'neonpro-demo'),
                        extensions.gen_salt('bf')),
       now(), '{"provider": "email", "providers": ["email"]}'::jsonb, jsonb_build_object('full_name', u.name)
from (values ('admin@aurora.demo', 'Admin Aurora'), ('recepcao@aurora.demo', 'Recepção Aurora'),
             ('dra.lima@aurora.demo', 'Dra. Lima'), ('admin@boreal.demo', 'Admin Boreal')) as u(email, name)
on conflict do nothing;

insert into public.clinic_members (clinic_id, user_id, role)
select pg_temp.seed_uuid('clinic:' || m.clinic), pg_temp.seed_uuid('user:' || m.email), m.role
from (values ('aurora', 'admin@aurora.demo', 'admin'), ('aurora', 'recepcao@aurora.demo', 'receptionist'),
             ('aurora', 'dra.lima@aurora.demo', 'professional'), ('boreal', 'admin@boreal.demo', 'admin'))
  as m(clinic, email, role)
on conflict do nothing;

insert into public.professionals (id, clinic_id, user_id, full_name, specialty)
select pg_temp.seed_uuid('pro:' || p.key), pg_temp.seed_uuid('clinic:' || p.clinic),
       case when p.email is null then null else pg_temp.seed_uuid('user:' || p.email) end, p.name, p.specialty
from (values ('aurora', 'lima', 'Dra. Lima', 'Dermatologia', 'dra.lima@aurora.demo'),
             ('aurora', 'souza', 'Dr. Souza', 'Harmonização facial', null),
             ('aurora', 'campos', 'Enf. Campos', 'Estética corporal', null),
             ('boreal', 'martins', 'Dra. Martins', 'Dermatologia', null),
             ('boreal', 'ribeiro', 'Dr. Ribeiro', 'Nutrologia', null))
  as p(clinic, key, name, specialty, email)
on conflict do nothing;

with first_names(i, name) as (
  select ordinality::int - 1, n from unnest(array['Ana','João','Maria','José','Luíza','Antônio','Beatriz','Conceição',
    'Márcia','Sérgio','Fábio','Letícia','Cláudia','Vinícius','Mônica','Lúcia','André','Júlia','Rafael','Patrícia',
    'Thaís','Caio','Débora','Otávio','Íris']) with ordinality as t(n)),
last_names(i, name) as (
  select ordinality::int - 1, n from unnest(array['Silva','Santos','Oliveira','Souza','Araújo','Pereira','Gonçalves',
    'Conceição','Simões','Magalhães','Câmara','Brandão','Assunção','Lopes','Fonseca','Galvão','Estêvão']) with ordinality as t(n)),
gen as (
  select c.slug, c.ord, g as n from (values ('aurora', 0), ('boreal', 1)) as c(slug, ord), generate_series(1, 50) g
)
insert into public.patients (id, clinic_id, full_name, cpf, birth_date, phone, email)
select pg_temp.seed_uuid('patient:' || gen.slug || ':' || gen.n), pg_temp.seed_uuid('clinic:' || gen.slug),
       f.name || ' ' || l.name || ' ' || l2.name,
       pg_temp.seed_cpf(gen.ord * 1000 + gen.n),
       date '1960-01-01' + ((gen.n * 397 + gen.ord * 131) % 15000),
       '+55 11 9' || lpad(((gen.n * 7331 + gen.ord * 17) % 100000000)::text, 8, '0'),
       'paciente' || gen.n || '@' || gen.slug || '.example'
from gen
join first_names f on f.i = (gen.n * 7 + gen.ord * 3) % 25
join last_names l on l.i = (gen.n * 5 + gen.ord) % 17
join last_names l2 on l2.i = (gen.n * 11 + 3) % 17
on conflict do nothing;

-- Clinical notes live in their own table (admins and professionals only).
insert into public.patient_clinical_notes (patient_id, clinic_id, notes)
select p.id, p.clinic_id, 'Paciente sintético. Sem alergias conhecidas.'
from (values ('aurora'), ('boreal')) as c(slug)
cross join generate_series(1, 50) g
join public.patients p on p.id = pg_temp.seed_uuid('patient:' || c.slug || ':' || g)
where p.anonymized_at is null -- an erased patient stays erased when the seed runs again
on conflict do nothing;

-- Appointments: per professional, three slots a day over 14 days, on weekdays.
with days as (
  select d, ((now() at time zone 'America/Sao_Paulo')::date + d) as day from generate_series(0, 13) d
),
pros(slug, key, ord) as (
  values ('aurora', 'lima', 0), ('aurora', 'souza', 1), ('aurora', 'campos', 2), ('boreal', 'martins', 0), ('boreal', 'ribeiro', 1)
),
slots(s, at) as (values (0, time '09:00'), (1, time '11:00'), (2, time '15:00'))
insert into public.appointments (id, clinic_id, patient_id, professional_id, starts_at, ends_at, procedure, status, idempotency_key)
select pg_temp.seed_uuid(k.key), pg_temp.seed_uuid('clinic:' || pros.slug),
       pg_temp.seed_uuid('patient:' || pros.slug || ':' || (1 + (days.d * 7 + pros.ord * 13 + slots.s * 3) % 50)),
       pg_temp.seed_uuid('pro:' || pros.key),
       (days.day + slots.at) at time zone 'America/Sao_Paulo',
       (days.day + slots.at + interval '45 minutes') at time zone 'America/Sao_Paulo',
       (array['Consulta de avaliação','Limpeza de pele','Toxina botulínica','Preenchimento','Peeling químico'])[1 + (days.d + slots.s + pros.ord) % 5],
       case when days.d = 0 then 'confirmed' else 'scheduled' end,
       k.key
from days cross join pros cross join slots
cross join lateral (select 'seed:' || pros.key || ':' || days.day || ':' || slots.s as key) k
where extract(isodow from days.day) < 6 or (pros.key = 'lima' and days.d = 1)
on conflict do nothing;

-- Every synthetic patient consented to treatment data processing (LGPD art. 11, II, f).
insert into public.consents (id, clinic_id, patient_id, purpose, legal_basis, granted_at)
select pg_temp.seed_uuid('consent:' || p.id), p.clinic_id, p.id, 'treatment', 'health_protection', p.created_at
from public.patients p
where p.id in (select pg_temp.seed_uuid('patient:' || c || ':' || g) from unnest(array['aurora', 'boreal']) c,
               generate_series(1, 50) g)
on conflict do nothing;

-- The services each clinic offers (name and usual duration in minutes); set once.
update public.clinics c set procedures = p.list
from (values
  ('aurora', '[{"name": "Consulta de avaliação", "duration_minutes": 45}, {"name": "Limpeza de pele", "duration_minutes": 60},
    {"name": "Toxina botulínica", "duration_minutes": 45}, {"name": "Preenchimento", "duration_minutes": 60},
    {"name": "Peeling químico", "duration_minutes": 45}]'::jsonb),
  ('boreal', '[{"name": "Consulta de avaliação", "duration_minutes": 45}, {"name": "Consulta nutrológica", "duration_minutes": 60},
    {"name": "Peeling químico", "duration_minutes": 45}]'::jsonb)) as p(slug, list)
where c.id = pg_temp.seed_uuid('clinic:' || p.slug) and c.procedures = '[]'::jsonb;
