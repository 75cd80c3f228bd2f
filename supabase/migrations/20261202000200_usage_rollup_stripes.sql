-- The daily usage rollup in stripes, so concurrent runs of one clinic stop queueing on one row.
--
-- Every agent run's transaction updated the same (clinic, day, provider) row through the rollup
-- trigger and held its lock until commit, WAL flush included: a clinic's runs committed one at a
-- time. Under scenario 2 (32 chat clients) a sixth of the agent's connections were waiting on that
-- lock at any moment, and every update lengthened the row's HOT chain that the next one walked
-- (docs/performance.md, "Fifth pass"). Now each connection writes its own stripe
-- (pg_backend_pid() mod 16; transactions on one connection never overlap) and the readers sum the
-- stripes, which they already did across days and providers. The bill itself (agent_usage, one row
-- per run, insert only) is unchanged.
alter table public.agent_usage_daily
  add column stripe smallint not null default 0 check (stripe between 0 and 15);
alter table public.agent_usage_daily drop constraint agent_usage_daily_pkey;
alter table public.agent_usage_daily add primary key (clinic_id, day, provider, stripe);

create or replace function app.rollup_agent_usage() returns trigger
language plpgsql security definer set search_path = '' as $$
declare tz text;
begin
  select c.timezone into tz from public.clinics c where c.id = new.clinic_id;
  insert into public.agent_usage_daily as d
    (clinic_id, day, provider, stripe, runs, input_tokens, output_tokens, tool_calls, duration_ms)
  values (new.clinic_id, (new.created_at at time zone coalesce(tz, 'UTC'))::date, new.provider,
          pg_backend_pid() % 16, 1, new.input_tokens, new.output_tokens, new.tool_calls, new.duration_ms)
  on conflict (clinic_id, day, provider, stripe) do update set
    runs = d.runs + 1,
    input_tokens = d.input_tokens + excluded.input_tokens,
    output_tokens = d.output_tokens + excluded.output_tokens,
    tool_calls = d.tool_calls + excluded.tool_calls,
    duration_ms = d.duration_ms + excluded.duration_ms;
  return null;
end $$;
