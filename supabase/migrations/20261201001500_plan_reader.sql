-- The gateway's limits read every clinic's plan and month-to-date usage, before (or without) a
-- user: a role that can read exactly that, instead of `service_role` (BYPASSRLS), which no
-- service can become (the services log in as `neonpro_authenticator`). Nothing about patients.
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'neonpro_plan_reader') then
    create role neonpro_plan_reader nologin noinherit nosuperuser nobypassrls;
  end if;
exception when duplicate_object or unique_violation then null; end $$;
do $$ begin
  grant neonpro_plan_reader to neonpro_authenticator;
exception when duplicate_object or unique_violation then null; end $$;

drop policy if exists clinic_plans_service_read on public.clinic_plans;
drop policy if exists agent_usage_daily_service_read on public.agent_usage_daily;
alter policy plan_defaults_read on public.plan_defaults to authenticated, neonpro_plan_reader;
create policy clinic_plans_plan_reader on public.clinic_plans for select to neonpro_plan_reader using (true);
create policy agent_usage_daily_plan_reader on public.agent_usage_daily for select to neonpro_plan_reader
  using (true);
-- A clinic's id, slug and time zone (its month turns in its zone): the only clinic columns granted.
create policy clinics_plan_reader on public.clinics for select to neonpro_plan_reader using (true);

revoke all on public.plan_defaults, public.clinic_plans, public.agent_usage, public.agent_usage_daily
  from service_role;
revoke execute on function app.clinic_month_usage(uuid) from service_role;

grant usage on schema public, app to neonpro_plan_reader;
grant select on public.plan_defaults, public.clinic_plans, public.agent_usage_daily to neonpro_plan_reader;
grant select (id, slug, timezone) on public.clinics to neonpro_plan_reader;
grant execute on function app.clinic_month_usage(uuid) to neonpro_plan_reader;
