-- The owner's sessions index without clinic_id, so a session lookup by id never picks it.
--
-- RLS adds `clinic_id = (select app.current_clinic_id()) and user_id = (select auth.uid())` to
-- every chat_sessions read. Those two values matched the first two columns of (clinic_id, user_id,
-- updated_at), and with a table's statistics missing or stale (a new database, or autovacuum off
-- or not yet run) the planner ranked that index level with the (clinic_id, id) key. Each lookup by
-- id then read every session of the user: in the 60-second soak drill, 10,301 scans read 5.6 M
-- tuples, and Postgres's CPU per chat turn grew with the user's sessions (docs/performance.md,
-- "Fifth pass"). A user belongs to one clinic (clinic_members.user_id is unique), so clinic_id
-- added nothing to the index; without it only the unique keys match a lookup by id.
drop index public.chat_sessions_user;
create index chat_sessions_user on public.chat_sessions (user_id, updated_at desc);
