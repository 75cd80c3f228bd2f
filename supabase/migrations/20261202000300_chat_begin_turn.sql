-- A chat turn's first transaction as one statement.
--
-- The agent began a turn with four or five statements, each waiting for the one before: the
-- caller's membership and session, the session insert when new, the user message, the history.
-- On this machine a round trip costs more than most of these statements (a pg socket write was
-- 42 % of the agent's busy time under 32 chat clients; docs/performance.md, "Fifth pass"). The
-- same steps, with the same statements and the same answers, now run in one call; the agent sends
-- it pipelined with the transaction's preamble and its commit.
--
-- Invoker rights: it runs as `authenticated` with the caller's claims, so RLS decides every read
-- and write exactly as before (own membership, own sessions, own messages). Outcomes:
--   no row               the user belongs to no clinic; nothing was read or written besides that;
--   'session_not_found'  the id is another user's session (never adopted); nothing was written;
--   'answered'           the turn was answered before: `answer` is replayed;
--   'new' / 'retry'      the user message was stored now / by an earlier attempt; `history` holds
--                        the newest `p_history` user and assistant messages, newest first.
create or replace function app.chat_begin_turn(
  p_user uuid, p_session uuid, p_turn_key text, p_content text, p_history integer
) returns table (member_clinic_id uuid, member_role text, outcome text, answer text, history jsonb)
language plpgsql volatile set search_path = '' as $$
#variable_conflict use_column
declare
  v_session uuid;
  v_stored uuid;
begin
  select m.clinic_id, m.role into member_clinic_id, member_role
    from public.clinic_members m where m.user_id = p_user;
  if member_clinic_id is null then
    return;
  end if;

  select s.id into v_session from public.chat_sessions s where s.id = p_session;
  if v_session is null then
    insert into public.chat_sessions (id, clinic_id, user_id, title)
      values (p_session, app.current_clinic_id(), auth.uid(), null)
      on conflict (id) do nothing returning id into v_session;
    if v_session is null then
      outcome := 'session_not_found';
      return next;
      return;
    end if;
  end if;

  insert into public.chat_messages as m (clinic_id, session_id, role, content, client_message_id, metadata)
    select s.clinic_id, s.id, 'user', p_content, p_turn_key, '{}'::jsonb
      from public.chat_sessions s where s.id = p_session
    on conflict (session_id, role, client_message_id) do nothing
    returning m.id into v_stored;
  if v_stored is not null then
    update public.chat_sessions s set updated_at = now() where s.id = p_session;
    outcome := 'new';
  else
    select m.id into v_stored from public.chat_messages m
     where m.session_id = p_session and m.role = 'user' and m.client_message_id = p_turn_key;
    if v_stored is null then
      outcome := 'session_not_found';
      return next;
      return;
    end if;
    select m.content into answer from public.chat_messages m
     where m.session_id = p_session and m.role = 'assistant' and m.client_message_id = p_turn_key;
    if found then
      outcome := 'answered';
      return next;
      return;
    end if;
    outcome := 'retry';
  end if;

  if p_history > 0 then
    select coalesce(jsonb_agg(to_jsonb(h) order by h.created_at desc, h.id desc), '[]'::jsonb) into history
      from (select m.id, m.session_id, m.role, m.content, m.client_message_id, m.metadata, m.created_at
              from public.chat_messages m
             where m.session_id = p_session and m.role in ('user', 'assistant')
             order by m.created_at desc, m.id desc
             limit p_history) h;
  end if;
  return next;
end $$;

revoke execute on function app.chat_begin_turn(uuid, uuid, text, text, integer) from public, anon;
grant execute on function app.chat_begin_turn(uuid, uuid, text, text, integer) to authenticated;
