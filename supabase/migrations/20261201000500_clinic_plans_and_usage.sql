-- Per-clinic plans (request limits per tier, a monthly AI token budget) and the usage of every
-- agent run, with daily rollups. Plans are written only by the migration/CLI owner role: no grant
-- lets `authenticated` or `service_role` change them, so no HTTP route can raise a clinic's limits.

-- A null column inherits: clinic plan -> default plan -> the gateway's RATE_LIMIT_* settings.
create table public.plan_defaults (
  singleton boolean primary key default true check (singleton),
  healthcare_limit integer check (healthcare_limit > 0),
  healthcare_window_s integer check (healthcare_window_s > 0),
  ai_limit integer check (ai_limit > 0),
  ai_window_s integer check (ai_window_s > 0),
  auth_limit integer check (auth_limit > 0),
  auth_window_s integer check (auth_window_s > 0),
  default_limit integer check (default_limit > 0),
  default_window_s integer check (default_window_s > 0),
  -- The per-clinic aggregate of the `ai` tier (all users of the clinic together).
  ai_clinic_limit integer check (ai_clinic_limit > 0),
  ai_clinic_window_s integer check (ai_clinic_window_s > 0),
  -- Input + output tokens per calendar month in the clinic's time zone; 0 means no budget.
  monthly_ai_tokens bigint check (monthly_ai_tokens >= 0),
  updated_at timestamptz not null default now()
);
insert into public.plan_defaults (singleton) values (true) on conflict do nothing;

create table public.clinic_plans (
  clinic_id uuid primary key references public.clinics(id) on delete cascade,
  healthcare_limit integer check (healthcare_limit > 0),
  healthcare_window_s integer check (healthcare_window_s > 0),
  ai_limit integer check (ai_limit > 0),
  ai_window_s integer check (ai_window_s > 0),
  auth_limit integer check (auth_limit > 0),
  auth_window_s integer check (auth_window_s > 0),
  default_limit integer check (default_limit > 0),
  default_window_s integer check (default_window_s > 0),
  ai_clinic_limit integer check (ai_clinic_limit > 0),
  ai_clinic_window_s integer check (ai_clinic_window_s > 0),
  monthly_ai_tokens bigint check (monthly_ai_tokens >= 0),
  updated_at timestamptz not null default now()
);

-- One row per agent run (never chat text: counts only).
create table public.agent_usage (
  id bigint generated always as identity primary key,
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  -- No foreign key: usage outlives an erased user account (it is the clinic's bill).
  user_id uuid not null,
  session_id uuid,
  provider text not null check (length(provider) between 1 and 64),
  model text not null check (length(model) between 1 and 200),
  input_tokens integer not null check (input_tokens >= 0),
  output_tokens integer not null check (output_tokens >= 0),
  -- True when the provider reported the token counts; false when they are the ≈4 chars/token estimate.
  tokens_reported boolean not null default false,
  tool_calls integer not null default 0 check (tool_calls >= 0),
  duration_ms integer not null check (duration_ms >= 0),
  outcome text not null check (outcome in ('ok', 'step_limit', 'cancelled', 'error')),
  created_at timestamptz not null default now()
);
create index agent_usage_clinic_at on public.agent_usage (clinic_id, created_at);

-- Daily rollup per clinic, local day (clinic time zone) and provider, kept by a trigger in the
-- run's own transaction: usage queries and the budget check read at most ~31 rows per provider
-- per month instead of scanning runs.
create table public.agent_usage_daily (
  clinic_id uuid not null references public.clinics(id) on delete cascade,
  day date not null,
  provider text not null,
  runs integer not null default 0,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  tool_calls bigint not null default 0,
  duration_ms bigint not null default 0,
  primary key (clinic_id, day, provider)
);

create or replace function app.rollup_agent_usage() returns trigger
language plpgsql security definer set search_path = '' as $$
declare tz text;
begin
  select c.timezone into tz from public.clinics c where c.id = new.clinic_id;
  insert into public.agent_usage_daily as d
    (clinic_id, day, provider, runs, input_tokens, output_tokens, tool_calls, duration_ms)
  values (new.clinic_id, (new.created_at at time zone coalesce(tz, 'UTC'))::date, new.provider, 1,
          new.input_tokens, new.output_tokens, new.tool_calls, new.duration_ms)
  on conflict (clinic_id, day, provider) do update set
    runs = d.runs + 1,
    input_tokens = d.input_tokens + excluded.input_tokens,
    output_tokens = d.output_tokens + excluded.output_tokens,
    tool_calls = d.tool_calls + excluded.tool_calls,
    duration_ms = d.duration_ms + excluded.duration_ms;
  return null;
end $$;
create trigger agent_usage_rollup after insert on public.agent_usage
  for each row execute function app.rollup_agent_usage();
revoke execute on function app.rollup_agent_usage() from public;

-- Usage rows are a bill: nobody rewrites them, and only the owner deletes (no DELETE grant; a
-- clinic's deletion cascades).
create or replace function app.agent_usage_immutable() returns trigger
language plpgsql set search_path = '' as $$
begin raise exception 'agent_usage is append-only' using errcode = 'insufficient_privilege'; end $$;
create trigger agent_usage_no_update before update on public.agent_usage
  for each row execute function app.agent_usage_immutable();

-- Month-to-date tokens of a clinic and when its month ends, both in the clinic's time zone.
create or replace function app.clinic_month_usage(p_clinic_id uuid)
returns table (tokens bigint, month_start date, resets_at timestamptz)
language sql stable set search_path = '' as $$
  with c as (
    select c.timezone as tz, date_trunc('month', now() at time zone c.timezone) as m
      from public.clinics c where c.id = p_clinic_id
  )
  select coalesce((select sum(d.input_tokens + d.output_tokens) from public.agent_usage_daily d
                    where d.clinic_id = p_clinic_id and d.day >= c.m::date), 0)::bigint,
         c.m::date,
         (c.m + interval '1 month') at time zone c.tz
    from c
$$;
-- Invoker rights: RLS on the rollup decides (admins: own clinic; the gateway's service role: any).
revoke execute on function app.clinic_month_usage(uuid) from public;

alter table public.plan_defaults enable row level security;
alter table public.plan_defaults force row level security;
alter table public.clinic_plans enable row level security;
alter table public.clinic_plans force row level security;
alter table public.agent_usage enable row level security;
alter table public.agent_usage force row level security;
alter table public.agent_usage_daily enable row level security;
alter table public.agent_usage_daily force row level security;

create policy plan_defaults_read on public.plan_defaults for select to authenticated, service_role using (true);
create policy clinic_plans_read on public.clinic_plans for select to authenticated
  using (clinic_id = app.current_clinic_id());
create policy clinic_plans_service_read on public.clinic_plans for select to service_role using (true);

-- The agent records a run as its caller: own clinic, own user id. Only admins read usage.
create policy agent_usage_insert on public.agent_usage for insert to authenticated
  with check (clinic_id = app.current_clinic_id() and user_id = auth.uid());
-- (select …) makes each helper an InitPlan evaluated once per query, not once per row.
create policy agent_usage_admin_read on public.agent_usage for select to authenticated
  using (clinic_id = (select app.current_clinic_id()) and (select app.current_member_role()) = 'admin');
create policy agent_usage_daily_admin_read on public.agent_usage_daily for select to authenticated
  using (clinic_id = (select app.current_clinic_id()) and (select app.current_member_role()) = 'admin');
create policy agent_usage_daily_service_read on public.agent_usage_daily for select to service_role using (true);

-- FORCE applies RLS to the owner as well: the owner (migrations, the plan CLI, the rollup
-- trigger's SECURITY DEFINER) keeps full access through explicit policies.
do $$ begin
  execute format('create policy plan_defaults_owner on public.plan_defaults for all to %I using (true) with check (true)', current_user);
  execute format('create policy clinic_plans_owner on public.clinic_plans for all to %I using (true) with check (true)', current_user);
  execute format('create policy agent_usage_owner on public.agent_usage for all to %I using (true) with check (true)', current_user);
  execute format('create policy agent_usage_daily_owner on public.agent_usage_daily for all to %I using (true) with check (true)', current_user);
end $$;

-- Grants: read-only plans; usage is inserted by runs and read by admins; rollups are the trigger's.
revoke all on public.plan_defaults, public.clinic_plans, public.agent_usage, public.agent_usage_daily
  from public, anon, authenticated, service_role;
grant select on public.plan_defaults, public.clinic_plans to authenticated, service_role;
grant select, insert on public.agent_usage to authenticated;
grant select on public.agent_usage_daily to authenticated, service_role;
grant execute on function app.clinic_month_usage(uuid) to authenticated, service_role;
