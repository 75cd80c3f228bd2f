-- Indexes for a clinic at scale (100k patients, 1M appointments; see docs/performance.md for the
-- EXPLAIN of each query). Every index leads with clinic_id, the column RLS filters on.

create extension if not exists pg_trgm with schema extensions;
create extension if not exists btree_gin with schema extensions;

-- Name search is an accent- and case-insensitive substring match (`search_norm(name) like
-- '%term%'`): a btree cannot serve a leading wildcard, a trigram GIN index can. Erased patients
-- are never searched, so they stay out of the index.
create index if not exists patients_clinic_name_trgm on public.patients
  using gin (clinic_id, app.search_norm(full_name) extensions.gin_trgm_ops)
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
