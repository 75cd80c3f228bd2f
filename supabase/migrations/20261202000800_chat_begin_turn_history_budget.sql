-- A chat turn's first statement reads the history its token budget needs, not a fixed 32 rows.
--
-- `app.chat_begin_turn` returned the newest `p_history` messages (32), and the agent read the rest
-- of the budget (AGENT_CONTEXT_TOKEN_BUDGET) in a second transaction: one more transaction and
-- round trip on every turn of a session past a few dozen messages (`turn-round-trips.mjs --long
-- 200`: 8.96 statements per turn, 5.72 now; docs/performance.md, "Cost flat in conversation
-- length").
--
-- Now the agent asks for up to 256 rows and passes the budget as characters, `p_history_chars`:
-- rows are read newest first until they hold that many characters (the row that crosses the bound
-- is the last one; a loop's cursor stops reading there). The agent's token estimate is at least a
-- quarter of a message's length (`estimateTokens`), so it passes four characters per token and its
-- budget runs out inside the rows returned; a shorter session comes back whole. The turn's own
-- message (`p_turn_key`), which the agent skips, is not counted. Everything else is as in
-- 20261202000500.
--
-- Migrations run before the new pods (docs/operations.md): agents of the previous release still
-- call the five-argument form during a rollout. `p_history_chars` defaults to null (no bound), so
-- that call resolves to this function and reads the rows it asks for, as before.
drop function app.chat_begin_turn(uuid, uuid, text, text, integer);

create function app.chat_begin_turn(
  p_user uuid, p_session uuid, p_turn_key text, p_content text, p_history integer,
  p_history_chars integer default null
) returns table (member_clinic_id uuid, member_role text, outcome text, answer text, history jsonb)
language plpgsql volatile set search_path = '' as $$
#variable_conflict use_column
declare
  v_session uuid;
  v_stored uuid;
  v_created boolean := false;
  v_row record;
  v_history jsonb[] := '{}';
  v_chars bigint := 0;
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
    -- Newest first, until the messages read (this turn's own left out) hold p_history_chars
    -- characters (null: no bound) or p_history rows were read. The loop's cursor stops there.
    for v_row in select m.id, m.session_id, m.role, m.content, m.client_message_id, m.metadata, m.created_at
                   from public.chat_messages m
                  where m.session_id = p_session and m.role in ('user', 'assistant')
                  order by m.created_at desc, m.id desc
                  limit p_history loop
      v_history := array_append(v_history, to_jsonb(v_row));
      if v_row.client_message_id is distinct from p_turn_key then
        v_chars := v_chars + length(v_row.content);
        exit when v_chars >= p_history_chars;
      end if;
    end loop;
    history := to_jsonb(v_history);
  end if;
  return next;
end $$;

revoke execute on function app.chat_begin_turn(uuid, uuid, text, text, integer, integer) from public, anon;
grant execute on function app.chat_begin_turn(uuid, uuid, text, text, integer, integer) to authenticated;
