-- A digits-only search term of 8+ digits is a CPF prefix or the end of a phone number
-- (app.search_patient_ids, p_phone_suffix). The phone branch compared the digits of every
-- patient's phone, formatted as typed, with the term: a scan of the clinic's patients (and a
-- regexp_replace per row) on every such search. See docs/performance.md for the EXPLAIN.
--
-- A suffix becomes a prefix of the reversed digits, which a btree with text_pattern_ops serves
-- like the CPF prefix. The reversed digits are stored (generated), so nothing per row is computed
-- at search time, and the index leads with clinic_id like every other search index.
alter table public.patients
  add column if not exists phone_digits_rev text
  generated always as (reverse(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'))) stored;
create index if not exists patients_clinic_phone_rev on public.patients (clinic_id, phone_digits_rev text_pattern_ops)
  where anonymized_at is null;

-- Same signature, owner, grants and clinic restriction as in 20261201000900; only the phone
-- branch changes: CPF prefix OR reversed-phone prefix, both index conditions (a BitmapOr of the
-- two indexes) instead of an OR with a per-row regexp that no index could serve.
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
              '(p.cpf like $2 || ''%'' or p.phone_digits_rev like reverse($6) || ''%'')'
            else 'p.cpf like $2 || ''%''' end
    || case when p_after_created is not null then ' and (p.created_at, p.id) > ($3, $4)' else '' end
    || ' order by p.created_at, p.id limit $5'
    using p_name, p_cpf_prefix, p_after_created, p_after_id, p_limit, p_phone_suffix;
end $$;
revoke execute on function app.search_patient_ids(text, text, timestamptz, uuid, integer, text) from public, anon;
grant execute on function app.search_patient_ids(text, text, timestamptz, uuid, integer, text) to authenticated, service_role;
