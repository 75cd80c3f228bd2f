-- A chat turn's first statement reads the history its token budget needs, and only what the
-- model is given.
--
-- `app.chat_begin_turn` returned the newest `p_history` messages (32), and the agent read the rest
-- of the budget (AGENT_CONTEXT_TOKEN_BUDGET) in a second transaction: one more transaction and
-- round trip on every turn of a session past a few dozen messages (`turn-round-trips.mjs --long
-- 200`: 8.96 statements per turn, 5.72 now). And it built each message with `to_jsonb(row)`: seven
-- columns, two of them uuids and one a timestamptz, each turned into text inside a jsonb value.
-- For a full 4,000-token budget (about 150 messages) that took 1.8 ms where reading the rows took
-- 0.2; the agent then parsed the timestamps back and dropped the rest. Scenario 8 (turn 200 ÷
-- turn 1) read 1.24–1.32 against its 1.2 (docs/performance.md, "Cost flat in conversation length").
--
-- Now the agent asks for up to 256 rows and passes the budget as characters, `p_history_chars`:
-- rows are read newest first until they hold that many characters (the row that crosses the bound
-- is the last one; the loop's cursor stops reading there). The agent's token estimate is at least
-- a quarter of a message's length (`estimateTokens`), so it passes four characters per token and
-- its budget runs out inside the rows returned. The turn's own message (`p_turn_key`) is not
-- counted.
--
-- With `p_history_narrow` (the agent passes true) each message is `{role, content, metadata}` and
-- the turn's own message is left out here rather than by the agent. Where the rows asked for ran
-- out before the bound, `history_before_at` / `history_before_id` say where the next older page
-- starts (the last row read); they are null when the history is complete. `history` is json, not
-- jsonb: it is built to be sent, never queried, and json skips the binary form (0.3 ms of the 150
-- messages). The function took 1.8 ms for such a history, 0.8 now. Everything else is as in
-- 20261202000500.
--
-- Migrations run before the new pods (docs/operations.md): agents of the previous release still
-- call the five-argument form during a rollout and read full rows, the turn's own included.
-- `p_history_chars` defaults to null (no bound) and `p_history_narrow` to false, so that call
-- resolves to this function and gets them, as before (node-pg parses json as it parses jsonb);
-- it selects its columns by name, so the two new ones pass it by.
drop function app.chat_begin_turn(uuid, uuid, text, text, integer);

create function app.chat_begin_turn(
  p_user uuid, p_session uuid, p_turn_key text, p_content text, p_history integer,
  p_history_chars integer default null, p_history_narrow boolean default false
) returns table (
  member_clinic_id uuid, member_role text, outcome text, answer text, history json,
  history_before_at timestamptz, history_before_id uuid
)
language plpgsql volatile set search_path = '' as $$
#variable_conflict use_column
declare
  v_session uuid;
  v_stored uuid;
  v_created boolean := false;
  v_row record;
  v_history json[] := '{}';
  v_chars bigint := 0;
  v_read integer := 0;
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
      v_read := v_read + 1;
      if v_row.client_message_id is not distinct from p_turn_key then
        -- The turn's own message is never counted; the narrow form leaves it out.
        if not p_history_narrow then
          v_history := array_append(v_history, row_to_json(v_row));
        end if;
        continue;
      end if;
      if p_history_narrow then
        v_history := array_append(v_history,
          json_build_object('role', v_row.role, 'content', v_row.content, 'metadata', v_row.metadata));
      else
        -- The previous release's full row.
        v_history := array_append(v_history, row_to_json(v_row));
      end if;
      v_chars := v_chars + length(v_row.content);
      exit when v_chars >= p_history_chars;
    end loop;
    history := array_to_json(v_history);
    -- Every row asked for was read and the bound not reached: older messages may follow.
    if v_read = p_history and (p_history_chars is null or v_chars < p_history_chars) then
      history_before_at := v_row.created_at;
      history_before_id := v_row.id;
    end if;
  end if;
  return next;
end $$;

revoke execute on function app.chat_begin_turn(uuid, uuid, text, text, integer, integer, boolean) from public, anon;
grant execute on function app.chat_begin_turn(uuid, uuid, text, text, integer, integer, boolean) to authenticated;
