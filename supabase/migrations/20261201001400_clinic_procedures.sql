-- The services a clinic offers, with their usual duration, so the assistant can answer "what
-- services do you offer?" and book with the right length. A small list per clinic: a jsonb
-- array on the clinic row keeps it under the clinic's existing RLS.
alter table public.clinics
  add column if not exists procedures jsonb not null default '[]'::jsonb;

do $$ begin
  alter table public.clinics add constraint clinics_procedures_is_array check (jsonb_typeof(procedures) = 'array');
exception when duplicate_object then null;
end $$;
