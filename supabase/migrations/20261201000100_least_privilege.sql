-- Least privilege: the database enforces what the API promises, whoever connects.
-- Before this migration a caller acting as `authenticated` with a receptionist's claims (the way a
-- direct Data API caller acts) could read clinical notes, read the whole audit log and forge audit
-- rows, and the services logged in as the owner. See supabase/README.md for the resulting model.

-- 1. The services' login role (Supabase's `authenticator` pattern): owns nothing, not superuser,
--    no BYPASSRLS, no privileges of its own (NOINHERIT); it can only `set role authenticated`.
--    The dev password below is refused in production by the config schema (DATABASE_URL); on a
--    real project, set a real one with `alter role neonpro_authenticator password '…'`.
--    Roles are cluster-wide and test databases are created concurrently: race-safe.
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'neonpro_authenticator') then
    create role neonpro_authenticator login noinherit nosuperuser nocreatedb nocreaterole nobypassrls
      password 'neonpro-authenticator-dev';
  end if;
exception when duplicate_object or unique_violation then null; end $$;
do $$ begin
  grant authenticated to neonpro_authenticator;
exception when duplicate_object or unique_violation then null; end $$;

-- 2. Clinical notes move to their own table, readable and writable only by admins and
--    professionals of the patient's clinic (its own policy), instead of a column every member
--    could read once they bypassed the API.
create table public.patient_clinical_notes (
  patient_id uuid primary key,
  clinic_id uuid not null,
  notes text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (clinic_id, patient_id) references public.patients (clinic_id, id) on delete cascade
);
insert into public.patient_clinical_notes (patient_id, clinic_id, notes)
  select id, clinic_id, clinical_notes from public.patients where clinical_notes is not null;
drop trigger patients_clinical_notes_guard on public.patients;
drop function app.guard_clinical_notes();
alter table public.patients drop column clinical_notes;
create trigger patient_clinical_notes_touch before update on public.patient_clinical_notes
  for each row execute function app.touch_updated_at();

-- 3. An erased (anonymised) patient is never changed again, nor their notes.
create or replace function app.guard_erased_patient() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_table_name = 'patients' then
    if old.anonymized_at is not null then
      raise exception 'an erased patient cannot be changed' using errcode = 'insufficient_privilege';
    end if;
  elsif exists (select 1 from public.patients p where p.id = new.patient_id and p.anonymized_at is not null) then
    raise exception 'an erased patient cannot be changed' using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
create trigger patients_erased_guard before update on public.patients
  for each row execute function app.guard_erased_patient();
create trigger clinical_notes_erased_guard before insert or update on public.patient_clinical_notes
  for each row execute function app.guard_erased_patient();

-- 4. The audit log is written only through this function: the actor is auth.uid(), the clinic is
--    the actor's, and the request id comes from `app.request_id`, a setting only the server sets
--    (PostgREST callers control `request.*` settings only). Nobody inserts directly.
--    jsonb_build_object with a null value keeps the key: strip nulls instead.
create or replace function app.audit(p_action text, p_subject_type text, p_subject_id uuid, p_details jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
declare v_clinic uuid := app.current_clinic_id();
begin
  if auth.uid() is null or v_clinic is null then
    raise exception 'audit needs a clinic member' using errcode = 'insufficient_privilege';
  end if;
  insert into public.audit_log (clinic_id, actor_id, action, subject_type, subject_id, request_id, details)
  values (v_clinic, auth.uid(), p_action, p_subject_type, p_subject_id,
          nullif(current_setting('app.request_id', true), ''),
          -- The client's own X-Request-Id (sanitised by the server) is kept as a detail, never the key.
          coalesce(p_details, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('client_request_id',
            nullif(current_setting('app.client_request_id', true), ''))));
end $$;

-- "Who saw this patient": searches and listings record the ids they returned in details.
create index audit_log_patient_ids on public.audit_log using gin ((details -> 'patient_ids'));
create index audit_log_patient_id on public.audit_log (clinic_id, (details ->> 'patient_id'));

-- 5. Erasure on normalised text. A pattern over a value: case- and accent-insensitive letters,
--    any whitespace run between words, optional punctuation.
create or replace function app.text_pattern(t text) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare s text := app.search_norm(t); out text := ''; ch text;
begin
  s := regexp_replace(btrim(s), '\s+', ' ', 'g');
  for i in 1..char_length(s) loop
    ch := substr(s, i, 1);
    out := out || case ch
      when 'a' then '[aáàâãäAÁÀÂÃÄ]' when 'e' then '[eéèêëEÉÈÊË]' when 'i' then '[iíìîïIÍÌÎÏ]'
      when 'o' then '[oóòôõöOÓÒÔÕÖ]' when 'u' then '[uúùûüUÚÙÛÜ]' when 'c' then '[cçCÇ]' when 'n' then '[nñNÑ]'
      when ' ' then '\s+'
      -- Punctuation inside a name or address is optional and interchangeable: D'Ávila, D"Ávila,
      -- Davila, D’Ávila all match.
      else case when ch ~ '[[:alnum:]]' then '[' || ch || upper(ch) || ']' else '[^[:alnum:][:space:]]?' end
    end;
  end loop;
  return out;
end $$;

-- Digits with any punctuation or spaces between them ("(11) 91234-5678", "112.345.678-90").
create or replace function app.digits_pattern(d text) returns text
language sql immutable parallel safe set search_path = '' as $$
  select '(?<![0-9])' || string_agg(substr(d, i, 1), '[\s().+/-]{0,3}' order by i) || '(?![0-9])'
    from generate_series(1, char_length(d)) i
$$;

-- Replaces every match of `pattern` inside the string values of a JSON document (keys untouched),
-- so names with quotes are redacted and the document stays valid.
create or replace function app.redact_jsonb(doc jsonb, pattern text) returns jsonb
language plpgsql immutable set search_path = '' as $$
begin
  return case jsonb_typeof(doc)
    when 'string' then to_jsonb(regexp_replace(doc #>> '{}', pattern, '[removido]', 'g'))
    when 'array' then coalesce((select jsonb_agg(app.redact_jsonb(e, pattern) order by n)
                                  from jsonb_array_elements(doc) with ordinality as a(e, n)), '[]'::jsonb)
    when 'object' then coalesce((select jsonb_object_agg(k, app.redact_jsonb(v, pattern))
                                   from jsonb_each(doc) as o(k, v)), '{}'::jsonb)
    else doc end;
end $$;

-- Name particles are not distinctive on their own.
create or replace function app.name_parts(full_name text) returns text[]
language sql immutable parallel safe set search_path = '' as $$
  select coalesce(array_agg(w order by n), '{}')
    from regexp_split_to_table(btrim(full_name), '\s+') with ordinality as t(w, n)
   where char_length(w) >= 2 and app.search_norm(w) not in ('da', 'de', 'do', 'das', 'dos', 'e', 'di', 'du')
$$;

-- What identifies a patient in free text: the full name, first + last name and any two
-- consecutive distinctive name parts (accent/case-insensitive), CPF and phone in any punctuation
-- (with or without country and area code), e-mail. Owner-only: never granted.
create or replace function app.patient_mention_pattern(p public.patients) returns text
language plpgsql stable set search_path = '' as $$
declare parts text[] := app.name_parts(p.full_name); pats text[] := '{}'; phone text; pattern text;
begin
  pats := pats || app.text_pattern(p.full_name);
  if array_length(parts, 1) >= 2 then
    pats := pats || (app.text_pattern(parts[1]) || '\s+' || app.text_pattern(parts[array_length(parts, 1)]));
    for i in 1..array_length(parts, 1) - 1 loop
      -- "Maria Pereira" and "Maria da Pereira" alike.
      pats := pats || (app.text_pattern(parts[i]) || '\s+(?:(?:da|de|do|das|dos|e)\s+)?' || app.text_pattern(parts[i + 1]));
    end loop;
  end if;
  pattern := '(?<![[:alnum:]])(?:' || array_to_string(pats, '|') || ')(?![[:alnum:]])';
  if p.cpf is not null then pattern := pattern || '|' || app.digits_pattern(p.cpf); end if;
  phone := regexp_replace(coalesce(p.phone, ''), '\D', '', 'g');
  if char_length(phone) >= 12 and phone like '55%' then phone := substr(phone, 3); end if;
  if char_length(phone) >= 10 then
    pattern := pattern || '|' || app.digits_pattern(phone) || '|' || app.digits_pattern(substr(phone, 3));
  elsif char_length(phone) >= 8 then
    pattern := pattern || '|' || app.digits_pattern(phone);
  end if;
  if p.email is not null and char_length(p.email) >= 3 then
    pattern := pattern || '|' || app.text_pattern(p.email);
  end if;
  return pattern;
end $$;

-- For the data-subject export (admins only): every chat message of the clinic, whoever's
-- session, that mentions the patient. Chat is owner-only under RLS, hence a definer function.
create or replace function app.patient_chat_mentions(p_patient_id uuid)
returns table (id uuid, session_id uuid, role text, content text, created_at timestamptz)
language plpgsql stable security definer set search_path = '' as $$
declare p public.patients; pattern text;
begin
  select * into p from public.patients where patients.id = p_patient_id and clinic_id = app.current_clinic_id();
  if not found or app.current_member_role() <> 'admin' then return; end if;
  pattern := app.patient_mention_pattern(p);
  return query
    select m.id, m.session_id, m.role, m.content, m.created_at from public.chat_messages m
     where m.clinic_id = p.clinic_id
       and (m.content ~ pattern or m.metadata::text ~ pattern or m.metadata::text like '%' || p_patient_id::text || '%')
     order by m.created_at, m.id;
end $$;

-- Erasure helper: chat messages of other users of the same clinic are invisible to the caller by
-- RLS, so redacting mentions of an erased patient needs this narrowly scoped definer function.
-- Everything app.patient_mention_pattern matches is redacted everywhere in the clinic; in the
-- sessions that mention the patient, each distinctive name part alone too ("a Maria").
create or replace function app.redact_patient_mentions(p_patient_id uuid) returns integer
language plpgsql security definer set search_path = '' as $$
declare p public.patients; pattern text; part_pattern text; n integer; sessions uuid[];
begin
  select * into p from public.patients where id = p_patient_id and clinic_id = app.current_clinic_id();
  if not found or app.current_member_role() <> 'admin' then return 0; end if;
  pattern := app.patient_mention_pattern(p);
  select coalesce(array_agg(distinct m.session_id), '{}') into sessions
    from public.chat_messages m
   where m.clinic_id = p.clinic_id
     and (m.content ~ pattern or m.metadata::text ~ pattern or m.metadata::text like '%' || p_patient_id::text || '%');
  part_pattern := (select '(?<![[:alnum:]])(?:' || string_agg(app.text_pattern(x), '|') || ')(?![[:alnum:]])'
                     from unnest(app.name_parts(p.full_name)) x where char_length(x) >= 3);
  if part_pattern is not null then pattern := pattern || '|' || part_pattern; end if;
  update public.chat_messages m
     set content = regexp_replace(m.content, pattern, '[removido]', 'g'),
         metadata = app.redact_jsonb(m.metadata, pattern)
   where m.clinic_id = p.clinic_id and m.session_id = any(sessions)
     and (m.content ~ pattern or m.metadata::text ~ pattern);
  get diagnostics n = row_count;
  -- A pending proposal for the erased patient can no longer be confirmed.
  update public.chat_messages set metadata = metadata - 'proposal'
   where clinic_id = p.clinic_id and metadata->'proposal'->>'patient_id' = p_patient_id::text;
  return n;
end $$;

-- 6. FORCE RLS on every table (the owner too, unless superuser or BYPASSRLS), and RLS on the
--    new one.
alter table public.patient_clinical_notes enable row level security;
alter table public.clinics force row level security;
alter table public.clinic_members force row level security;
alter table public.professionals force row level security;
alter table public.patients force row level security;
alter table public.patient_clinical_notes force row level security;
alter table public.appointments force row level security;
alter table public.consents force row level security;
alter table public.audit_log force row level security;
alter table public.chat_sessions force row level security;
alter table public.chat_messages force row level security;

create policy clinical_notes_clinicians on public.patient_clinical_notes for all to authenticated
  using (clinic_id = app.current_clinic_id() and app.current_member_role() in ('admin', 'professional'))
  with check (clinic_id = app.current_clinic_id() and app.current_member_role() in ('admin', 'professional'));

-- Audit rows: admins read their clinic's; nobody inserts (app.audit does, as the owner).
drop policy audit_insert on public.audit_log;
drop policy audit_read on public.audit_log;
create policy audit_admin_read on public.audit_log for select to authenticated
  using (clinic_id = app.current_clinic_id() and app.current_member_role() = 'admin');

-- 7. Revoke everything, then grant only what each table needs. RLS decides rows; grants decide
--    verbs. No DELETE on clinical data (erasure anonymises); nothing at all for anon or public.
revoke all on all tables in schema public from anon, authenticated, service_role, public;
revoke all on all sequences in schema public from anon, authenticated, service_role, public;
revoke all on all functions in schema public from anon, authenticated, service_role, public;
revoke all on all functions in schema app from anon, authenticated, service_role, public;
revoke create on schema public from anon, authenticated, public;
revoke all on schema app from anon, public, service_role;
grant usage on schema public, app to authenticated;

grant select, update on public.clinics to authenticated;
grant select, insert, update, delete on public.clinic_members, public.professionals to authenticated;
grant select, insert, update on public.patients, public.appointments, public.consents to authenticated;
grant select, insert, update, delete on public.patient_clinical_notes to authenticated;
grant select on public.audit_log to authenticated;
grant select, insert, update, delete on public.chat_sessions, public.chat_messages to authenticated;
grant execute on function app.current_clinic_id(), app.current_member_role(), app.search_norm(text),
  app.cpf_is_valid(text), app.redact_patient_mentions(uuid), app.patient_chat_mentions(uuid),
  app.audit(text, text, uuid, jsonb) to authenticated;

-- A future table, sequence or function created by the migration owner is closed until granted
-- (hosted Supabase's defaults would otherwise give anon and authenticated everything, TRUNCATE too).
alter default privileges in schema public revoke all on tables from anon, authenticated, service_role, public;
alter default privileges in schema public revoke all on sequences from anon, authenticated, service_role, public;
alter default privileges in schema public revoke all on functions from anon, authenticated, service_role, public;
alter default privileges in schema app revoke all on tables from anon, authenticated, service_role, public;
alter default privileges in schema app revoke all on functions from anon, authenticated, service_role, public;
alter default privileges revoke execute on functions from public;
