-- A chat session is touched once per turn, not twice.
--
-- `updated_at` orders a user's sessions (most recent first). Each turn updated the session row
-- twice: when the user's message was stored (`app.chat_begin_turn`) and again when the answer
-- was. A session's first turn updated the row right after inserting it. `updated_at` is indexed
-- (`chat_sessions_user`) and has a `before update` trigger, so every one of those updates ran the
-- trigger and wrote a new row version into all three indexes of the table.
--
-- Now `updated_at` is the time the user last wrote in the session (or its creation): the user's
-- message touches the session, unless this statement has just inserted it; the answer no longer
-- does (`chat_answer_insert` in libs/database). A session with an unanswered last message still
-- moves to the top of the list. Everything else in the function is as in 20261202000300.
create or replace function app.chat_begin_turn(
  p_user uuid, p_session uuid, p_turn_key text, p_content text, p_history integer
) returns table (member_clinic_id uuid, member_role text, outcome text, answer text, history jsonb)
language plpgsql volatile set search_path = '' as $$
#variable_conflict use_column
declare
  v_session uuid;
  v_stored uuid;
  v_created boolean := false;
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
    v_created := v_session is not null;
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
    -- A session inserted by this statement already carries now().
    if not v_created then
      update public.chat_sessions s set updated_at = now() where s.id = p_session;
    end if;
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
