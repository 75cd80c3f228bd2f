-- The caller's clinic and role, planned once per connection instead of once per call.
--
-- Every RLS policy calls app.current_clinic_id(). As a `language sql` function with a SET clause
-- it is never inlined, and Postgres plans a non-inlined SQL function's query on every call: a chat
-- turn called it 17 times, spending 0.044 ms of its 0.049 ms per call in the planner
-- (pg_stat_statements, docs/performance.md "Postgres per turn"). plpgsql keeps the prepared plan
-- for the session. Same signature, volatility, owner, security definer, search_path and grants:
-- `create or replace` keeps the owner and the grants, and the answer is the same query's.
create or replace function app.current_clinic_id() returns uuid
language plpgsql stable security definer set search_path = '' as $$
begin
  return (select m.clinic_id from public.clinic_members m where m.user_id = auth.uid());
end $$;

create or replace function app.current_member_role() returns text
language plpgsql stable security definer set search_path = '' as $$
begin
  return (select m.role from public.clinic_members m where m.user_id = auth.uid());
end $$;
