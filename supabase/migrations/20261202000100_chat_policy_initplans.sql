-- The chat tables' policies evaluate the caller's clinic and user once per statement, not once
-- per row.
--
-- Written as `clinic_id = app.current_clinic_id()`, a policy calls the security-definer function
-- for every row it checks (the function is stable, not immutable, so it is not folded), and
-- chat_messages' `exists` subquery runs again per row with its own calls inside. Under scenario 2
-- (32 chat clients) that per-row work was a third of Postgres's CPU: `ExecSubPlan` 11.5 % and
-- `fmgr_security_definer` 5.7 % of all the machine's samples (perf, docs/performance.md "Fifth
-- pass"). Wrapped in `(select …)`, each call becomes an InitPlan evaluated once per statement, as
-- the agent_usage read policies already do. Same predicates, same roles, same commands.
alter policy chat_sessions_owner on public.chat_sessions
  using (clinic_id = (select app.current_clinic_id()) and user_id = (select auth.uid()))
  with check (clinic_id = (select app.current_clinic_id()) and user_id = (select auth.uid()));

alter policy chat_messages_owner on public.chat_messages
  using (clinic_id = (select app.current_clinic_id())
         and exists (select 1 from public.chat_sessions s
                      where s.id = session_id and s.user_id = (select auth.uid())))
  with check (clinic_id = (select app.current_clinic_id())
         and exists (select 1 from public.chat_sessions s
                      where s.id = session_id and s.user_id = (select auth.uid())));

alter policy agent_usage_insert on public.agent_usage
  with check (clinic_id = (select app.current_clinic_id()) and user_id = (select auth.uid()));
