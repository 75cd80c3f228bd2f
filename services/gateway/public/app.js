// NeonPro demo chat: log in over REST, then chat over Socket.IO (/chat) with streamed tokens.
(() => {
  const $ = (id) => document.getElementById(id);
  const state = { token: null, socket: null, sessionId: null, current: null, bubbles: new Map(), retireCard: null };

  const TOOL_LABELS = {
    search_patients: 'buscando pacientes',
    get_patient_summary: 'lendo o resumo do paciente',
    list_appointments: 'consultando a agenda',
    find_free_slots: 'procurando horários livres',
    book_appointment: 'agendando',
    cancel_appointment: 'cancelando a consulta',
    reschedule_appointment: 'remarcando a consulta',
    clinic_info: 'lendo os dados da clínica',
  };

  function add(role, text) {
    const li = document.createElement('li');
    li.className = role;
    li.textContent = text;
    $('messages').appendChild(li);
    li.scrollIntoView({ block: 'end' });
    return li;
  }

  function setBusy(busy) {
    $('send').disabled = busy;
    $('cancel').disabled = !busy;
  }

  async function login(event) {
    event.preventDefault();
    $('login-error').textContent = '';
    const res = await fetch('/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: $('email').value, password: $('password').value }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      $('login-error').textContent = body.detail || 'Não foi possível entrar.';
      return;
    }
    state.token = body.access_token;
    $('whoami').textContent = body.user && body.user.email ? body.user.email : '';
    $('whoami').hidden = false;
    $('login').hidden = true;
    $('chat').hidden = false;
    connect();
  }

  function connect() {
    // io is provided by /socket.io/socket.io.min.js, served by the gateway itself.
    const socket = window.io('/chat', { auth: { token: state.token }, transports: ['websocket'] });
    state.socket = socket;
    socket.on('connect', () => {
      $('status').textContent = 'conectado';
      if (state.sessionId) {
        socket.emit('session:join', { session_id: state.sessionId }, () => undefined);
      }
    });
    socket.on('disconnect', () => ($('status').textContent = 'reconectando…'));
    socket.on('connect_error', (err) => {
      $('status').textContent = `erro de conexão: ${(err && err.data && err.data.code) || err.message}`;
    });
    socket.on('session:expired', () => {
      $('status').textContent = 'sessão expirada: entre novamente';
      socket.disconnect();
      $('chat').hidden = true;
      $('login').hidden = false;
    });
    socket.on('chat:token', (e) => {
      const bubble = state.bubbles.get(e.message_id) || add('assistant', '');
      state.bubbles.set(e.message_id, bubble);
      bubble.textContent += e.delta;
      bubble.scrollIntoView({ block: 'end' });
    });
    socket.on('chat:tool', (e) => {
      if (e.status === 'started') {
        add('tool', `⚙ ${TOOL_LABELS[e.name] || e.name}…`);
      }
    });
    socket.on('chat:proposal', (e) => {
      // Only the newest proposal can be confirmed: the server refuses older ones anyway.
      if (state.retireCard) {
        state.retireCard();
      }
      state.retireCard = window.NeonProposalCard.render(
        $('messages'),
        e,
        (proposalId) => sendText('Confirmo', { proposal_id: proposalId }),
        () => sendText('Não'),
      );
    });
    socket.on('chat:done', (e) => {
      const bubble = state.bubbles.get(e.message_id) || add('assistant', '');
      bubble.textContent = e.content;
      bubble.dataset.done = 'true';
      state.current = null;
      setBusy(false);
    });
    socket.on('chat:error', (e) => {
      add('error', `${e.message} (${e.code})`);
      state.current = null;
      setBusy(false);
    });
  }

  function send(event) {
    event.preventDefault();
    const text = $('message').value.trim();
    if (!text || !state.socket) {
      return;
    }
    $('message').value = '';
    sendText(text);
  }

  /** One turn; `confirm` is the card's explicit confirmation of one proposal. */
  function sendText(text, confirm) {
    if (!state.socket) {
      return;
    }
    if (state.retireCard && !confirm) {
      state.retireCard();
    }
    add('user', text);
    setBusy(true);
    const payload = { message: text, client_message_id: `web-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` };
    if (state.sessionId) {
      payload.session_id = state.sessionId;
    }
    if (confirm) {
      payload.confirm = confirm;
    }
    state.socket.emit('chat:send', payload, (ack) => {
      if (!ack || !ack.ok) {
        const err = (ack && ack.error) || { message: 'falha ao enviar', code: 'unknown' };
        add('error', `${err.message} (${err.code})`);
        setBusy(false);
        return;
      }
      state.sessionId = ack.session_id;
      state.current = ack.message_id;
    });
  }

  function cancel() {
    if (state.current && state.socket) {
      state.socket.emit('chat:cancel', { message_id: state.current }, () => setBusy(false));
    }
  }

  $('login').addEventListener('submit', (e) => void login(e));
  $('composer').addEventListener('submit', send);
  $('cancel').addEventListener('click', cancel);
})();
