-- A year of agent usage for one clinic with 100 staff (40 runs per person per working day, about
-- 1.04 M runs) beside 50 other clinics, to read the query plans of the usage report and the
-- budget check (README "Usage"). Run on a scratch database after the migrations:
--   psql -d <scratch> -f bench/usage/year-of-usage.sql
-- Rows are bulk-loaded with the rollup trigger disabled and the rollup built in one statement
-- (the same aggregation the trigger does per row), which is what a year of traffic leaves behind.
\set ON_ERROR_STOP on
insert into public.clinics (id, slug, name) values ('11111111-1111-4111-8111-111111111111', 'big', 'Big clinic')
  on conflict do nothing;
insert into public.clinics (slug, name) select 'other-' || g, 'Other ' || g from generate_series(1, 50) g
  on conflict do nothing;
insert into auth.users (id, email)
  select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'staff' || g || '@big.test'
    from generate_series(1, 100) g on conflict do nothing;
insert into public.clinic_members (clinic_id, user_id, role)
  select '11111111-1111-4111-8111-111111111111', ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
         case when g = 1 then 'admin' else 'professional' end
    from generate_series(1, 100) g on conflict do nothing;

alter table public.agent_usage disable trigger agent_usage_rollup;
insert into public.agent_usage (clinic_id, user_id, provider, model, input_tokens, output_tokens, tool_calls,
       duration_ms, outcome, created_at)
select '11111111-1111-4111-8111-111111111111', ('00000000-0000-4000-8000-' || lpad(s::text, 12, '0'))::uuid,
       case when r % 10 = 0 then 'openai' else 'local' end, 'm', 900, 150, r % 3, 1200, 'ok',
       d + make_interval(hours => 8 + r % 10, mins => r)
  from generate_series(now() - interval '365 days', now(), interval '1 day') d,
       generate_series(1, 100) s, generate_series(1, 40) r
 where extract(isodow from d) < 6;
alter table public.agent_usage enable trigger agent_usage_rollup;

insert into public.agent_usage_daily (clinic_id, day, provider, runs, input_tokens, output_tokens, tool_calls, duration_ms)
select u.clinic_id, (u.created_at at time zone c.timezone)::date, u.provider, count(*), sum(input_tokens),
       sum(output_tokens), sum(tool_calls), sum(duration_ms)
  from public.agent_usage u join public.clinics c on c.id = u.clinic_id
 group by 1, 2, 3;
-- The other clinics: rollups only (their raw runs do not change the plans below).
insert into public.agent_usage_daily (clinic_id, day, provider, runs, input_tokens, output_tokens, tool_calls, duration_ms)
select c.id, d::date, 'local', 100, 90000, 15000, 30, 120000
  from public.clinics c, generate_series(current_date - 365, current_date, interval '1 day') d
 where c.slug like 'other-%';
analyze public.agent_usage;
analyze public.agent_usage_daily;
