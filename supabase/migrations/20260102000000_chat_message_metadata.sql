-- What the assistant needs to carry from one turn to the next besides the text: the booking or
-- cancellation waiting for confirmation, and the patient names the turn saw (so later turns can
-- pseudonymise them before any text leaves for an external model provider).
alter table public.chat_messages add column metadata jsonb not null default '{}'::jsonb;

-- Erasure also scrubs the names kept in metadata, not only the message text.
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
      -- Names live in JSON strings; a plain replace keeps the document valid (no quotes in needles).
      update public.chat_messages set metadata = replace(metadata::text, needle, '[removido]')::jsonb
       where clinic_id = p.clinic_id and strpos(metadata::text, needle) > 0 and strpos(needle, '"') = 0;
    end if;
  end loop;
  -- A pending proposal for the erased patient can no longer be confirmed.
  update public.chat_messages set metadata = metadata - 'proposal'
   where clinic_id = p.clinic_id and metadata->'proposal'->>'patient_id' = p_patient_id::text;
  return n;
end $$;
