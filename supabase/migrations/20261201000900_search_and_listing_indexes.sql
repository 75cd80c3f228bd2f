-- Indexes for a clinic at scale (100k patients, 1M appointments; see docs/performance.md for the
-- EXPLAIN of each query). The btree indexes lead with clinic_id, the column RLS filters on.

create extension if not exists pg_trgm with schema extensions;

-- Name search is an accent- and case-insensitive substring match (`normalised name like
-- '%term%'`): a btree cannot serve a leading wildcard, a trigram GIN index can. The normalised
-- name is stored: search_norm (unaccent behind a SET search_path, never inlined) costs far more
-- per row than the LIKE itself, and an index recheck or a filter would call it on every candidate.
-- Erased patients are never searched, so they stay out of the index. The clinic is not an index
-- column: in a GIN index its posting list would hold every patient of the clinic and be
-- intersected on each search (measured: more buffers and slower than rechecking clinic_id on the
-- few trigram candidates).
alter table public.patients
  add column if not exists full_name_norm text generated always as (app.search_norm(full_name)) stored;
create index if not exists patients_name_trgm on public.patients
  using gin (full_name_norm extensions.gin_trgm_ops)
  where anonymized_at is null;
-- The btree on search_norm(full_name) served no query (no equality or prefix search on names).
drop index if exists public.patients_clinic_name;

-- CPF search is a prefix match (`cpf like '123%'`): text_pattern_ops makes LIKE prefixes indexable
-- whatever the database collation.
create index if not exists patients_clinic_cpf_prefix on public.patients (clinic_id, cpf text_pattern_ops)
  where anonymized_at is null;

-- A professional's agenda (listing filtered by professional) in keyset order.
create index if not exists appointments_clinic_professional_start
  on public.appointments (clinic_id, professional_id, starts_at, id);

-- Under RLS, Postgres only turns a caller's condition into an index condition when its operator is
-- leakproof (the policy's own condition is evaluated first otherwise), and LIKE is not: as the
-- caller, `search_norm(name) like '%term%'` always filtered every row of the clinic, index or not.
-- This function runs the search as its owner, restricted to the caller's clinic exactly as the
-- patients_read policy is, so the trigram and CPF indexes serve it; it returns only ids, and the
-- repository reads the rows through RLS as the caller. One keyset page, in (created_at, id) order.
-- A digits-only term of 8+ digits may also be the end of a phone number (p_phone_suffix): that
-- branch is not indexed (a clinic scan), as the digits of a formatted phone are not stored.
create or replace function app.search_patient_ids(
  p_name text, p_cpf_prefix text, p_after_created timestamptz, p_after_id uuid, p_limit integer,
  p_phone_suffix text default null
) returns setof uuid
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_name is null and p_cpf_prefix is null then return; end if;
  -- EXECUTE plans each call with the actual values: a cached generic plan cannot know that a
  -- rare name wants the trigram index while a common one is found sooner along the keyset index.
  return query execute
    'select p.id from public.patients p
      where p.clinic_id = app.current_clinic_id() and p.anonymized_at is null and '
    || case when p_name is not null then 'p.full_name_norm like ''%'' || app.search_norm($1) || ''%'''
            when p_phone_suffix is not null then
              '(p.cpf like $2 || ''%'' or regexp_replace(coalesce(p.phone, ''''), ''[^0-9]'', '''', ''g'') like ''%'' || $6)'
            else 'p.cpf like $2 || ''%''' end
    || case when p_after_created is not null then ' and (p.created_at, p.id) > ($3, $4)' else '' end
    || ' order by p.created_at, p.id limit $5'
    using p_name, p_cpf_prefix, p_after_created, p_after_id, p_limit, p_phone_suffix;
end $$;
revoke execute on function app.search_patient_ids(text, text, timestamptz, uuid, integer, text) from public, anon;
grant execute on function app.search_patient_ids(text, text, timestamptz, uuid, integer, text) to authenticated, service_role;

-- Free slots need a professional's busy intervals on one day. The exclusion constraint's GiST
-- index (professional_id, tstzrange) answers exactly that, but range overlap (&&) is not
-- leakproof either, so as the caller the query walked the professional's whole history. Same
-- remedy: the lookup runs as the owner, limited to the caller's clinic, and returns only times.
create or replace function app.busy_intervals(p_professional_id uuid, p_from timestamptz, p_to timestamptz)
returns table (starts_at timestamptz, ends_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select a.starts_at, a.ends_at from public.appointments a
   where a.clinic_id = app.current_clinic_id() and a.professional_id = p_professional_id
     and a.status <> 'cancelled'
     and tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(p_from, p_to, '[)')
$$;
revoke execute on function app.busy_intervals(uuid, timestamptz, timestamptz) from public, anon;
grant execute on function app.busy_intervals(uuid, timestamptz, timestamptz) to authenticated, service_role;
