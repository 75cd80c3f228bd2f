-- Clinic data: tenancy by clinic, enforced by RLS keyed on auth.uid() -> clinic_members.

create schema if not exists app;
grant usage on schema app to authenticated, service_role;

-- Accent-insensitive search: unaccent when the server has it, translate() otherwise.
do $$ begin
  begin
    create extension if not exists unaccent with schema extensions;
  exception when others then null;
  end;
  if to_regprocedure('extensions.unaccent(regdictionary, text)') is not null then
    execute $f$
      create or replace function app.search_norm(t text) returns text
      language sql immutable parallel safe set search_path = '' as
      'select lower(extensions.unaccent(''extensions.unaccent''::regdictionary, coalesce(t, '''')))'
    $f$;
  else
    execute $f$
      create or replace function app.search_norm(t text) returns text
      language sql immutable parallel safe set search_path = '' as
      'select lower(translate(coalesce(t, ''''), ''ÁÀÂÃÄáàâãäÉÈÊËéèêëÍÌÎÏíìîïÓÒÔÕÖóòôõöÚÙÛÜúùûüÇçÑñ'', ''AAAAAaaaaaEEEEeeeeIIIIiiiiOOOOOoooooUUUUuuuuCcNn''))'
    $f$;
  end if;
end $$;

-- CPF: 11 digits, not all equal, both check digits valid (mod 11).
create or replace function app.cpf_is_valid(c text) returns boolean
language plpgsql immutable parallel safe set search_path = '' as $$
declare s int; d1 int; d2 int;
begin
  if c is null then return true; end if;
  if c !~ '^[0-9]{11}$' or c ~ '^([0-9])\1{10}$' then return false; end if;
  s := 0;
  for i in 1..9 loop s := s + substr(c, i, 1)::int * (11 - i); end loop;
  d1 := (s * 10) % 11; if d1 = 10 then d1 := 0; end if;
  s := 0;
  for i in 1..10 loop s := s + substr(c, i, 1)::int * (12 - i); end loop;
  d2 := (s * 10) % 11; if d2 = 10 then d2 := 0; end if;
  return d1 = substr(c, 10, 1)::int and d2 = substr(c, 11, 1)::int;
end $$;

create or replace function app.touch_updated_at() returns trigger
language plpgsql set search_path = '' as $$
begin new.updated_at := now(); return new; end $$;

create table public.clinics (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique,
  name text not null,
  timezone text not null default 'America/Sao_Paulo',
  phone text,
  address text,
  opening_hours jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.clinic_members (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  user_id uuid not null references auth.users(id) on delete cascade,
  role text not null check (role in ('admin', 'professional', 'receptionist')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- One clinic per user: the principal carries exactly one clinic_id.
  unique (user_id),
  unique (clinic_id, id)
);

create table public.professionals (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  user_id uuid references auth.users(id) on delete set null,
  full_name text not null,
  specialty text,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (clinic_id, id)
);

create table public.patients (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  full_name text not null,
  cpf text check (app.cpf_is_valid(cpf)),
  birth_date date,
  phone text,
  email text,
  clinical_notes text,
  anonymized_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (clinic_id, cpf),
  unique (clinic_id, id)
);
create index patients_clinic_keyset on public.patients (clinic_id, created_at, id);
create index patients_clinic_name on public.patients (clinic_id, (app.search_norm(full_name)));

create table public.appointments (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  patient_id uuid not null,
  professional_id uuid not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  procedure text not null,
  status text not null default 'scheduled'
    check (status in ('scheduled', 'confirmed', 'completed', 'cancelled', 'no_show')),
  notes text,
  idempotency_key text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ends_at > starts_at),
  -- Composite keys: an appointment can only reference its own clinic's patient and professional.
  foreign key (clinic_id, patient_id) references public.patients (clinic_id, id),
  foreign key (clinic_id, professional_id) references public.professionals (clinic_id, id),
  unique (clinic_id, idempotency_key),
  constraint appointments_no_double_booking exclude using gist (
    professional_id with =,
    tstzrange(starts_at, ends_at, '[)') with &&
  ) where (status <> 'cancelled')
);
create index appointments_clinic_start on public.appointments (clinic_id, starts_at, id);
create index appointments_patient on public.appointments (clinic_id, patient_id, starts_at);

create table public.consents (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  patient_id uuid not null,
  purpose text not null,
  legal_basis text not null,
  granted_at timestamptz not null default now(),
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (clinic_id, patient_id) references public.patients (clinic_id, id)
);
create index consents_patient on public.consents (clinic_id, patient_id);

create table public.audit_log (
  id bigint generated always as identity primary key,
  clinic_id uuid not null references public.clinics(id),
  actor_id uuid,
  action text not null,
  subject_type text not null,
  subject_id uuid,
  request_id text,
  at timestamptz not null default now(),
  details jsonb not null default '{}'::jsonb
);
create index audit_log_subject on public.audit_log (clinic_id, subject_id, at);
create index audit_log_clinic_at on public.audit_log (clinic_id, at);

create table public.chat_sessions (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  user_id uuid not null references auth.users(id) on delete cascade,
  title text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (clinic_id, id)
);
create index chat_sessions_user on public.chat_sessions (clinic_id, user_id, updated_at desc);

create table public.chat_messages (
  id uuid primary key default gen_random_uuid(),
  clinic_id uuid not null,
  session_id uuid not null,
  role text not null check (role in ('user', 'assistant', 'tool')),
  content text not null,
  client_message_id text,
  created_at timestamptz not null default now(),
  foreign key (clinic_id, session_id) references public.chat_sessions (clinic_id, id) on delete cascade
);
-- A retried turn is stored exactly once.
create unique index chat_messages_once on public.chat_messages (session_id, role, client_message_id);
create index chat_messages_session on public.chat_messages (session_id, created_at, id);

create trigger clinics_touch before update on public.clinics for each row execute function app.touch_updated_at();
create trigger members_touch before update on public.clinic_members for each row execute function app.touch_updated_at();
create trigger professionals_touch before update on public.professionals for each row execute function app.touch_updated_at();
create trigger patients_touch before update on public.patients for each row execute function app.touch_updated_at();
create trigger appointments_touch before update on public.appointments for each row execute function app.touch_updated_at();
create trigger consents_touch before update on public.consents for each row execute function app.touch_updated_at();
create trigger chat_sessions_touch before update on public.chat_sessions for each row execute function app.touch_updated_at();

-- Membership helpers. SECURITY DEFINER so policies can consult clinic_members without
-- recursing into clinic_members' own RLS.
create or replace function app.current_clinic_id() returns uuid
language sql stable security definer set search_path = '' as $$
  select m.clinic_id from public.clinic_members m where m.user_id = auth.uid()
$$;

create or replace function app.current_member_role() returns text
language sql stable security definer set search_path = '' as $$
  select m.role from public.clinic_members m where m.user_id = auth.uid()
$$;

-- Audit rows are evidence: nobody (not even the owner) updates or deletes them.
create or replace function app.audit_log_immutable() returns trigger
language plpgsql set search_path = '' as $$
begin raise exception 'audit_log is append-only' using errcode = 'insufficient_privilege'; end $$;
create trigger audit_log_no_update before update or delete on public.audit_log
  for each row execute function app.audit_log_immutable();
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function app.audit_log_immutable();

-- Receptionists never write clinical notes (they never read them either: see the repository).
create or replace function app.guard_clinical_notes() returns trigger
language plpgsql set search_path = '' as $$
begin
  if app.current_member_role() = 'receptionist'
     and new.clinical_notes is distinct from (case when tg_op = 'UPDATE' then old.clinical_notes end) then
    raise exception 'receptionists cannot write clinical notes' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
create trigger patients_clinical_notes_guard before insert or update on public.patients
  for each row execute function app.guard_clinical_notes();

-- Erasure helper: chat messages of other users of the same clinic are invisible to the caller
-- by RLS, so redacting mentions of an erased patient needs a narrowly scoped definer function.
create or replace function app.redact_patient_mentions(p_patient_id uuid) returns integer
language plpgsql security definer set search_path = '' as $$
declare p public.patients; n integer := 0; c integer; needle text;
begin
  select * into p from public.patients where id = p_patient_id and clinic_id = app.current_clinic_id();
  if not found or app.current_member_role() <> 'admin' then return 0; end if;
  foreach needle in array array_remove(array[p.full_name, p.cpf, p.phone, p.email,
      case when p.cpf is not null then substr(p.cpf,1,3)||'.'||substr(p.cpf,4,3)||'.'||substr(p.cpf,7,3)||'-'||substr(p.cpf,10,2) end], null)
  loop
    if length(needle) >= 3 then
      update public.chat_messages set content = replace(content, needle, '[removido]')
       where clinic_id = p.clinic_id and strpos(content, needle) > 0;
      get diagnostics c = row_count;
      n := n + c;
    end if;
  end loop;
  return n;
end $$;

-- RLS on every table.
alter table public.clinics enable row level security;
alter table public.clinic_members enable row level security;
alter table public.professionals enable row level security;
alter table public.patients enable row level security;
alter table public.appointments enable row level security;
alter table public.consents enable row level security;
alter table public.audit_log enable row level security;
alter table public.chat_sessions enable row level security;
alter table public.chat_messages enable row level security;

create policy clinics_read on public.clinics for select to authenticated
  using (id = app.current_clinic_id());
create policy clinics_admin_update on public.clinics for update to authenticated
  using (id = app.current_clinic_id() and app.current_member_role() = 'admin')
  with check (id = app.current_clinic_id());

create policy members_read on public.clinic_members for select to authenticated
  using (clinic_id = app.current_clinic_id());
create policy members_admin_write on public.clinic_members for all to authenticated
  using (clinic_id = app.current_clinic_id() and app.current_member_role() = 'admin')
  with check (clinic_id = app.current_clinic_id() and app.current_member_role() = 'admin');

create policy professionals_read on public.professionals for select to authenticated
  using (clinic_id = app.current_clinic_id());
create policy professionals_admin_write on public.professionals for all to authenticated
  using (clinic_id = app.current_clinic_id() and app.current_member_role() = 'admin')
  with check (clinic_id = app.current_clinic_id() and app.current_member_role() = 'admin');

create policy patients_read on public.patients for select to authenticated
  using (clinic_id = app.current_clinic_id());
create policy patients_insert on public.patients for insert to authenticated
  with check (clinic_id = app.current_clinic_id());
create policy patients_update on public.patients for update to authenticated
  using (clinic_id = app.current_clinic_id()) with check (clinic_id = app.current_clinic_id());

create policy appointments_read on public.appointments for select to authenticated
  using (clinic_id = app.current_clinic_id());
create policy appointments_insert on public.appointments for insert to authenticated
  with check (clinic_id = app.current_clinic_id());
create policy appointments_update on public.appointments for update to authenticated
  using (clinic_id = app.current_clinic_id()) with check (clinic_id = app.current_clinic_id());

create policy consents_read on public.consents for select to authenticated
  using (clinic_id = app.current_clinic_id());
create policy consents_insert on public.consents for insert to authenticated
  with check (clinic_id = app.current_clinic_id());
create policy consents_update on public.consents for update to authenticated
  using (clinic_id = app.current_clinic_id()) with check (clinic_id = app.current_clinic_id());

create policy audit_read on public.audit_log for select to authenticated
  using (clinic_id = app.current_clinic_id());
create policy audit_insert on public.audit_log for insert to authenticated
  with check (clinic_id = app.current_clinic_id() and actor_id = auth.uid());

create policy chat_sessions_owner on public.chat_sessions for all to authenticated
  using (clinic_id = app.current_clinic_id() and user_id = auth.uid())
  with check (clinic_id = app.current_clinic_id() and user_id = auth.uid());

create policy chat_messages_owner on public.chat_messages for all to authenticated
  using (clinic_id = app.current_clinic_id()
         and exists (select 1 from public.chat_sessions s where s.id = session_id and s.user_id = auth.uid()))
  with check (clinic_id = app.current_clinic_id()
         and exists (select 1 from public.chat_sessions s where s.id = session_id and s.user_id = auth.uid()));

-- Grants: RLS decides rows; grants decide verbs. No DELETE on clinical data (erasure anonymises),
-- no UPDATE/DELETE on audit_log, nothing for anon.
revoke all on all tables in schema public from anon;
grant select, update on public.clinics to authenticated;
grant select, insert, update, delete on public.clinic_members, public.professionals to authenticated;
grant select, insert, update on public.patients, public.appointments, public.consents to authenticated;
grant select, insert on public.audit_log to authenticated;
revoke update, delete, truncate on public.audit_log from authenticated, anon, service_role;
grant select, insert, update, delete on public.chat_sessions, public.chat_messages to authenticated;
grant select, insert, update, delete on public.clinics, public.clinic_members, public.professionals,
  public.patients, public.appointments, public.consents, public.chat_sessions, public.chat_messages to service_role;
grant select, insert on public.audit_log to service_role;
grant execute on function app.current_clinic_id(), app.current_member_role(), app.search_norm(text),
  app.cpf_is_valid(text), app.redact_patient_mentions(uuid) to authenticated, service_role;
revoke execute on function app.redact_patient_mentions(uuid) from public, anon;
