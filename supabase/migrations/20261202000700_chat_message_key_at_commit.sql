-- The message's foreign key is checked at commit, so Postgres plans that check once per backend.
--
-- Postgres keeps one cached plan per foreign key and backend, and re-plans it whenever the
-- search_path differs from the one it was planned under. A chat turn checks this key twice in two
-- contexts: the user's message is inserted inside app.chat_begin_turn (`set search_path = ''`), the
-- answer by a top-level statement under the connection's path. Each context re-planned the other's
-- check: 4.8 % of Postgres's samples under 32 chat clients (docs/performance.md, chat, "Eighth
-- pass"); 60–70 µs of backend CPU per re-plan in a loop of one-insert transactions. At commit, both checks run
-- under the transaction's own path. A bad key still fails its transaction, with the same error
-- (23503), at commit instead of at the statement. ON DELETE CASCADE is not deferred (Postgres
-- never defers referential actions).
alter table public.chat_messages
  alter constraint chat_messages_session_owner_fkey deferrable initially deferred;
