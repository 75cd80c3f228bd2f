// NeonPro usage page (clinic admins): daily runs and tokens of the last 30 days (uPlot, served
// by the gateway from node_modules at /vendor/uplot/) and the monthly token budget gauge.
(() => {
  const $ = (id) => document.getElementById(id);
  const nf = new Intl.NumberFormat('pt-BR');
  let token = null;

  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(body.detail || `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return body;
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
    token = body.access_token;
    $('whoami').textContent = body.user && body.user.email ? body.user.email : '';
    $('whoami').hidden = false;
    $('login').hidden = true;
    $('usage').hidden = false;
    await load();
  }

  async function load() {
    try {
      const [plan, usage] = await Promise.all([api('/v1/clinic/plan'), api('/v1/clinic/usage?granularity=day')]);
      renderBudget(plan);
      renderChart(usage);
      document.body.dataset.loaded = 'true';
    } catch (err) {
      $('usage-error').textContent =
        err.status === 403
          ? 'Apenas administradores da clínica veem o uso.'
          : `Não foi possível carregar: ${err.message}`;
      document.body.dataset.loaded = 'error';
    }
  }

  function renderBudget(plan) {
    const { used, remaining, resets_at: resetsAt } = plan.budget;
    const gauge = $('budget-gauge');
    const renews = new Date(resetsAt).toLocaleDateString('pt-BR', { timeZone: plan.timezone });
    if (plan.monthly_ai_tokens > 0) {
      gauge.max = plan.monthly_ai_tokens;
      gauge.value = Math.min(used, plan.monthly_ai_tokens);
      gauge.low = plan.monthly_ai_tokens * 0.7;
      gauge.high = plan.monthly_ai_tokens * 0.9;
      const pct = Math.round((used / plan.monthly_ai_tokens) * 100);
      $('budget-text').textContent =
        `${nf.format(used)} de ${nf.format(plan.monthly_ai_tokens)} tokens (${pct}%) · restam ${nf.format(remaining)} · renova em ${renews}`;
    } else {
      gauge.hidden = true;
      $('budget-text').textContent = `${nf.format(used)} tokens neste mês · plano sem limite mensal`;
    }
  }

  function renderChart(usage) {
    // uPlot wants seconds since the epoch on the x axis; noon UTC keeps each local day on its date.
    const xs = usage.data.map((d) => Date.parse(`${d.period}T12:00:00Z`) / 1000);
    const runs = usage.data.map((d) => d.runs);
    const tokens = usage.data.map((d) => d.input_tokens + d.output_tokens);
    const chart = $('chart');
    const opts = {
      width: Math.max(320, chart.clientWidth || 800),
      height: 320,
      tzDate: (ts) => window.uPlot.tzDate(new Date(ts * 1000), 'UTC'),
      scales: { x: { time: true }, runs: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        {},
        { scale: 'runs', label: 'execuções' },
        { scale: 'tokens', side: 1, label: 'tokens', grid: { show: false } },
      ],
      series: [
        {},
        {
          label: 'Execuções',
          scale: 'runs',
          stroke: '#6b3fd4',
          fill: 'rgba(107, 63, 212, 0.35)',
          paths: window.uPlot.paths.bars({ size: [0.6, 40] }),
          points: { show: false },
        },
        { label: 'Tokens', scale: 'tokens', stroke: '#e0792b', width: 2 },
      ],
    };
    chart.textContent = '';
    new window.uPlot(opts, [xs, runs, tokens], chart);
    const t = usage.totals;
    $('totals').textContent =
      `Total: ${nf.format(t.runs)} execuções · ${nf.format(t.input_tokens)} tokens de entrada · ` +
      `${nf.format(t.output_tokens)} de saída · ${nf.format(t.tool_calls)} chamadas de ferramentas`;
  }

  $('login').addEventListener('submit', (e) => void login(e));
})();
