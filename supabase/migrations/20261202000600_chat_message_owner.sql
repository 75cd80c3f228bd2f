-- A chat message carries its session's owner, so its policy is two column comparisons.
--
-- chat_messages_owner checked each row with `exists (select 1 from chat_sessions s where s.id =
-- session_id and s.user_id = auth.uid())`. The planner may run that subquery once per row or
-- "hashed": read every session of the user once and probe the hash. Which one depended on the
-- statistics of the moment and stayed in the cached plan. Under 32 chat clients (perf) the hashed
-- form in the turn's history read was 8.7 % of Postgres's samples, and it read all the user's
-- sessions on every turn, so a turn cost more the more conversations its user had had; the
-- per-row form costs an index probe per message read instead (400 for a 200-turn session's
-- history). docs/performance.md, chat, "Eighth pass".
--
-- Now the row says whose it is, and a foreign key keeps that true: (clinic_id, session_id,
-- user_id) must be a session of that clinic *and that user*. A message can only be written into
-- one's own session (the key), and only with one's own id (the policy), as before; reading needs
-- no subquery. `user_id` defaults to the caller (auth.uid()), so the statements that insert
-- messages as the user did not change.
alter table public.chat_messages add column user_id uuid;

update public.chat_messages m set user_id = s.user_id
  from public.chat_sessions s where s.id = m.session_id;

alter table public.chat_messages
  alter column user_id set default auth.uid(),
  alter column user_id set not null;

-- The key the new foreign key points at, in place of (clinic_id, id): one index either way.
alter table public.chat_messages drop constraint chat_messages_clinic_id_session_id_fkey;
alter table public.chat_sessions drop constraint chat_sessions_clinic_id_id_key;
alter table public.chat_sessions add constraint chat_sessions_clinic_id_id_user_id_key unique (clinic_id, id, user_id);
alter table public.chat_messages add constraint chat_messages_session_owner_fkey
  foreign key (clinic_id, session_id, user_id) references public.chat_sessions (clinic_id, id, user_id)
  on delete cascade;

alter policy chat_messages_owner on public.chat_messages
  using (clinic_id = (select app.current_clinic_id()) and user_id = (select auth.uid()))
  with check (clinic_id = (select app.current_clinic_id()) and user_id = (select auth.uid()));
