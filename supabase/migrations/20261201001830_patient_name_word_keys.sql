-- Multi-word name search by word keys (app.search_patient_ids). See docs/performance.md, "Word
-- keys for multi-word names", for the EXPLAIN before and after.
--
-- A term of several words ("quiteria santos silva") went to the trigram index, which intersects
-- the posting lists of every trigram of the term. The frequent ones ('  s', ' sa', 'san', 'os ',
-- ...) hold tens of thousands of patients in a 100k clinic: ~600 index pages and 2-20 ms to find
-- 3 patients, where the 200-patient clinic filtered its 200 rows in 0.2 ms.
--
-- The semantics stay those of `full_name_norm like '%term%'`. When the term has whitespace, every
-- match also satisfies (whitespace splits words in both term and name):
--   - the term from its second word on starts at a word start of the name;
--   - the term's first word ends a word of the name.
-- So the index holds, per patient, the name's prefixes from each word start ('^santos silva'),
-- and each word's suffixes ('quiteria$'), 3 to 16 characters; such a term asks for the keys
-- '^<term from its second word, first 16 characters>' and '<first word, last 16>$'. That is a GIN
-- intersection of two short posting lists (the patients with that word pair, those with that
-- word), and the substring test still runs on each candidate, so the keys only narrow the set.
-- Other terms keep the previous paths: a single word (a substring of a name word, "ilva") and a
-- term whose later part is under 3 characters ("quiteria s").
--
-- Keys carry the clinic (the first 8 hex digits of its id), so each clinic has its own posting
-- lists: a small clinic does not read a large one's. A shared prefix only costs a few extra rows,
-- which the clinic_id condition drops. It is an expression index, not a stored column: ~45 keys per
-- patient would triple the heap that listings and the keyset index read.
create or replace function app.name_search_keys(clinic uuid, norm text) returns text[]
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  tag text := left(clinic::text, 8);
  keys text[] := '{}';
  rest text := coalesce(norm, '');
  w text;
begin
  -- A loop over the words: 2.4x faster than the same keys in one SQL statement (regexp_split and
  -- generate_series), which counts at each insert, index build and ANALYZE sample.
  loop
    rest := substring(rest from '\S.*$');  -- from the next word start to the end
    exit when rest is null;
    for n in 3..least(16, char_length(rest)) loop
      keys := keys || (tag || '^' || left(rest, n));
    end loop;
    w := substring(rest from '^\S+');
    for n in 3..least(16, char_length(w)) loop
      keys := keys || (tag || right(w, n) || '$');
    end loop;
    rest := substr(rest, char_length(w) + 1);
  end loop;
  return keys;
end $$;
revoke execute on function app.name_search_keys(uuid, text) from public, anon;
-- Whoever writes a patient computes its index keys (as with app.search_norm and full_name_norm).
grant execute on function app.name_search_keys(uuid, text) to authenticated;

-- Not partial (unlike patients_name_trgm): the planner ignores the statistics of a partial
-- index's expression, and without them it guessed 0.5% of the table for any key.
create index if not exists patients_name_keys on public.patients
  using gin (app.name_search_keys(clinic_id, full_name_norm));

-- Same signature, owner, grants and clinic restriction as in 20261201001710. Changes:
-- - a term with whitespace whose words give keys is matched through patients_name_keys (above);
-- - the caller's clinic is read once and passed as a value: the planner sees which clinic (and
--   its size) instead of estimating an average one, and a heap filter compares a constant rather
--   than calling app.current_clinic_id() per candidate row.
create or replace function app.search_patient_ids(
  p_name text, p_cpf_prefix text, p_after_created timestamptz, p_after_id uuid, p_limit integer,
  p_phone_suffix text default null
) returns setof uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  v_clinic uuid := app.current_clinic_id();
  v_norm text;
  v_first text;
  v_rest text;
  v_keys text[] := '{}';
begin
  if v_clinic is null or (p_name is null and p_cpf_prefix is null) then return; end if;
  if p_name is not null then
    v_norm := app.search_norm(p_name);
    -- p_name is escaped for LIKE: a term with an escape (\%, \_, \\) keeps the trigram path.
    if strpos(p_name, '\') = 0 then
      v_first := substring(v_norm from '^(\S*)\s');     -- ends a name word
      v_rest := substring(v_norm from '^\S*\s+(.*)$');  -- starts at a name word's start
      -- Without a key from a word start ("quiteria s"), a suffix key alone is as broad as a
      -- first name: such a term keeps the trigram or keyset path.
      if char_length(v_rest) >= 3 then
        v_keys := array[left(v_clinic::text, 8) || '^' || left(v_rest, 16)];
        if char_length(v_first) >= 3 then
          v_keys := v_keys || (left(v_clinic::text, 8) || right(v_first, 16) || '$');
        end if;
      end if;
    end if;
  end if;
  -- EXECUTE plans each call with the actual values: a cached generic plan cannot know that a
  -- rare name wants an index on names while a common one is found sooner along the keyset index.
  return query execute
    'select p.id from public.patients p
      where p.clinic_id = $7 and p.anonymized_at is null and '
    || case when p_name is not null and cardinality(v_keys) > 0 then
              'strpos(p.full_name_norm, $8) > 0 and app.name_search_keys(p.clinic_id, p.full_name_norm) @> $9'
            when p_name is not null then 'p.full_name_norm like ''%'' || $8 || ''%'''
            when p_phone_suffix is not null then
              '(p.cpf like $2 || ''%'' or p.phone_digits_rev like reverse($6) || ''%'')'
            else 'p.cpf like $2 || ''%''' end
    || case when p_after_created is not null then ' and (p.created_at, p.id) > ($3, $4)' else '' end
    || ' order by p.created_at, p.id limit $5'
    using p_name, p_cpf_prefix, p_after_created, p_after_id, p_limit, p_phone_suffix, v_clinic, v_norm, v_keys;
end $$;
revoke execute on function app.search_patient_ids(text, text, timestamptz, uuid, integer, text) from public, anon;
grant execute on function app.search_patient_ids(text, text, timestamptz, uuid, integer, text) to authenticated, service_role;
