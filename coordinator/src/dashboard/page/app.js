// The dashboard page: a live run over the WebSocket (/ws), or finished runs from the server's
// files API (/api/runs), drawn the same way. Messages only change the state; drawing happens at
// most once per animation frame, so a fast run does not make the page draw more often.
import { Chart, color, objectiveData, trafficData } from './charts.js';
import { NetworkView } from './network.js';

const $ = (id) => document.getElementById(id);
const emptySeries = () => ({ objective: [], normalised: [], messages: [], bytes: [], latencyMs: [], timedOut: [], missing: [] });

const charts = {
  objective: new Chart($('objective'), 300, 'bit/s/Hz'),
  traffic: new Chart($('traffic'), 170, 'messages', 'kB'),
  latency: new Chart($('latency'), 170, 'ms'),
  compare: new Chart($('compare'), 260, 'bit/s/Hz'),
};
const net = new NetworkView($('network'), $('tip'));
const state = { mode: 'live', info: null, live: null, liveEnded: false, files: null, index: null, runId: null, compareIndex: null, powerMax: 0, banner: '' };
window.dmpemuDashboard = { state, net, charts };

let frame = 0;
function schedule() {
  if (!frame) frame = requestAnimationFrame(() => ((frame = 0), render()));
}

function setConn(text, cls) {
  $('conn').textContent = text;
  $('conn').className = `badge ${cls ?? ''}`;
}

// ---- live ------------------------------------------------------------------------------------

function onMessage(m) {
  const v = state.live;
  switch (m.type) {
    case 'view':
      state.live = m.view;
      state.powerMax = 0;
      state.banner = '';
      break;
    case 'round': {
      if (!v) return;
      const s = (v.series[m.algorithm] ??= emptySeries());
      for (const [k, x] of Object.entries(m.series)) s[k][m.t] = x;
      v.agents = { [m.algorithm]: m.agents };
      v.progress = m.progress;
      break;
    }
    case 'wmmse':
      if (v) v.wmmse = m.curve;
      break;
    case 'result':
      if (v) v.results[m.algorithm] = m.objective;
      break;
    case 'progress':
      if (v) v.progress = m.progress;
      break;
    case 'log':
      if (!v) return;
      v.log.push(m.entry);
      if (v.log.length > 200) v.log.shift();
      if (m.entry.agent !== undefined && (m.entry.kind === 'crash' || m.entry.kind === 'death')) net.flashAgent(m.entry.agent);
      if (m.entry.kind === 'broker-stop') state.banner = `broker down since round ${m.entry.round}`;
      if (m.entry.kind === 'broker-start' || m.entry.kind === 'broker-outage') state.banner = '';
      break;
    case 'end':
      if (v) v.run = m.run;
      state.liveEnded = true;
      break;
  }
  if (state.mode === 'live') schedule();
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.onopen = () => setConn('live', 'live');
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
  ws.onclose = () => {
    if (state.liveEnded) setConn(`run ${state.live?.run?.status ?? 'ended'}`, 'ended');
    else {
      setConn('disconnected', 'off');
      setTimeout(connect, 3000);
    }
  };
}

// ---- finished runs ---------------------------------------------------------------------------

const getJson = async (url) => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
};

async function loadRuns() {
  const runs = await getJson('/api/runs');
  const list = $('runList');
  list.replaceChildren(
    ...runs.map((r) => {
      const li = document.createElement('li');
      li.dataset.run = r.id;
      li.innerHTML = `<b></b><small></small>`;
      li.querySelector('b').textContent = r.scenario ?? r.id;
      li.querySelector('small').textContent = `${r.id} · ${r.status}${r.seconds !== undefined ? ` · ${r.seconds.toFixed(1)} s` : ''}`;
      li.onclick = () => openRun(r.id);
      return li;
    }),
  );
  const sel = $('compareWith');
  sel.replaceChildren(new Option('(none)', ''), ...runs.map((r) => new Option(r.id, r.id)));
  sel.onchange = () => setCompare(sel.value);
  return runs;
}

async function openRun(id) {
  state.mode = 'files';
  state.runId = id;
  state.index = await getJson(`/api/runs/${encodeURIComponent(id)}`);
  for (const li of $('runList').children) li.classList.toggle('selected', li.dataset.run === id);
  $('pick').hidden = false;
  $('backToLive').hidden = !state.info?.live;
  const nets = $('pickNetwork');
  nets.replaceChildren(...state.index.networks.map((n, i) => new Option(n.point === undefined ? n.network : `${n.network} @ ${state.index.summary?.sweep?.key} = ${n.sweepValue}`, String(i))));
  nets.onchange = () => pickNetwork();
  const r = $('reportLink');
  r.href = `/runs/${encodeURIComponent(id)}/report.html`;
  r.hidden = !(await fetch(r.href, { method: 'HEAD' })).ok;
  location.hash = `run=${encodeURIComponent(id)}${state.compareIndex ? `&compare=${encodeURIComponent(state.compareIndex.id)}` : ''}`;
  await pickNetwork();
}

async function pickNetwork() {
  const n = state.index.networks[Number($('pickNetwork').value || 0)];
  if (!n) return;
  const inst = $('pickInstance');
  inst.replaceChildren(...Array.from({ length: n.instances }, (_, i) => new Option(String(i), String(i))));
  inst.onchange = () => loadView();
  await loadView();
}

async function loadView() {
  const n = state.index.networks[Number($('pickNetwork').value || 0)];
  const q = new URLSearchParams({ network: n.network, instance: $('pickInstance').value || '0' });
  if (n.point !== undefined) q.set('point', String(n.point));
  state.files = await getJson(`/api/runs/${encodeURIComponent(state.runId)}/view?${q}`);
  state.powerMax = 0;
  const agents = $('pickAgents');
  agents.replaceChildren(...Object.keys(state.files.agents).map((a) => new Option(a, a)));
  agents.value = Object.keys(state.files.agents).at(-1) ?? '';
  agents.onchange = () => schedule();
  renderCompare();
  schedule();
}

async function setCompare(id) {
  state.compareIndex = id ? await getJson(`/api/runs/${encodeURIComponent(id)}`) : null;
  if (state.runId) location.hash = `run=${encodeURIComponent(state.runId)}${id ? `&compare=${encodeURIComponent(id)}` : ''}`;
  renderCompare();
}

/** Mean objective against rounds of two runs on a network of the same name (else each run's first). */
function renderCompare() {
  const A = state.index, B = state.compareIndex;
  $('comparePanel').hidden = !(A?.summary && B?.summary);
  if ($('comparePanel').hidden) return;
  const name = state.index.networks[Number($('pickNetwork').value || 0)]?.network;
  const netOf = (s) => {
    const nets = s.sweep ? s.sweep.points.flatMap((p) => p.networks) : s.networks;
    return nets.find((n) => n.network === name) ?? nets[0];
  };
  const a = netOf(A.summary), b = netOf(B.summary);
  if (!a || !b) return;
  const dmpLen = (n) => Math.max(0, ...n.algorithms.map((x) => x.history?.length ?? 0));
  const xmax = Math.max(10, dmpLen(a), dmpLen(b));
  const x = Array.from({ length: xmax + 1 }, (_, i) => i);
  const series = [];
  for (const [tag, n, dash] of [['A', a, undefined], ['B', b, [6, 3]]]) {
    for (const alg of n.algorithms) {
      if (!alg.history) continue;
      const v = x.map((i) => (i >= 1 && i <= alg.history.length ? alg.history[i - 1] : null));
      series.push({ label: `${tag}: ${alg.algorithm}`, stroke: color(alg.algorithm), dash, values: v, width: 2 });
    }
    series.push({ label: `${tag}: WMMSE`, stroke: '#ff7f0e', dash, gaps: true, values: x.map((i) => (i % 2 === 0 ? n.wmmseHistory[i / 2] ?? null : null)) });
  }
  charts.compare.set(x, series);
  $('compareInfo').textContent = `A = ${A.id} (${a.network}), B = ${B.id} (${b.network}); dashed: B; means over instances`;
  const algs = [...new Set([...a.algorithms, ...b.algorithms].map((x) => x.algorithm))];
  const pct = (n, alg) => {
    const r = n.algorithms.find((x) => x.algorithm === alg);
    return r ? `${(100 * r.normalised).toFixed(1)}%` : '-';
  };
  $('compareTable').innerHTML = `<table><tr><th>vs WMMSE-100</th><th>A</th><th>B</th></tr>${algs.map((g) => `<tr><td></td><td>${pct(a, g)}</td><td>${pct(b, g)}</td></tr>`).join('')}</table>`;
  [...$('compareTable').querySelectorAll('tr')].slice(1).forEach((tr, i) => (tr.firstChild.textContent = algs[i]));
}

// ---- drawing ---------------------------------------------------------------------------------

function currentView() {
  return state.mode === 'files' ? state.files : state.live;
}

function render() {
  const v = currentView();
  if (!v) return;
  const run = v.run, p = v.progress;
  $('runTitle').textContent = run ? `${run.scenario} · ${run.runId} · ${run.status}${run.reason ? ` (${run.reason})` : ''}${run.seconds !== undefined ? ` · ${run.seconds.toFixed(1)} s` : ''}` : '';
  $('progress').hidden = state.mode === 'files';
  if (p) {
    $('job').textContent = p.job;
    $('jobs').textContent = p.of;
    $('pointInfo').textContent = p.point !== undefined ? `· sweep point ${p.point + 1} of ${run?.sweep?.values.length}: ${run?.sweep?.key} = ${p.sweepValue}` : '';
    $('where').textContent = `${p.network}, instance ${p.instance}, ${p.algorithm}`;
    $('round').textContent = p.kind === 'dmp' ? String(p.t + 1) : '-';
    $('rounds').textContent = p.kind === 'dmp' ? String(p.rounds) : '-';
    const done = run && run.status !== 'running' ? 1 : (p.job - 1 + (p.kind === 'dmp' && p.rounds ? (p.t + 1) / p.rounds : 1)) / Math.max(1, p.of);
    $('barFill').style.width = `${(100 * done).toFixed(1)}%`;
  }
  // curves
  const o = objectiveData(v, p?.kind === 'dmp' ? p.rounds : 0);
  charts.objective.set(o.x, o.series, o.marks);
  $('objective').dataset.points = String(o.points);
  $('overtakes').textContent = Object.entries(o.overtakes)
    .map(([a, byLevel]) => `${a}: ${[10, 30, 100].map((n) => (n in byLevel ? `beats WMMSE-${n} ${byLevel[n] === null ? 'not yet' : `after ${byLevel[n]} rounds`}` : '')).filter(Boolean).join(', ')}`)
    .join(' · ');
  const t = trafficData(v);
  charts.traffic.set(t.x, t.traffic);
  charts.latency.set(t.x, t.latency);
  // network
  net.setLayout(v.layout, v.K);
  const agentsKey = state.mode === 'files' ? $('pickAgents').value : Object.keys(v.agents)[0];
  const a = v.agents[agentsKey] ?? null;
  net.setAgents(a);
  if (a) for (const x of a.power) if (x > state.powerMax) state.powerMax = x;
  const max = state.powerMax > 0 ? state.powerMax : 1;
  $('scaleMax').textContent = max.toPrecision(3);
  const flashing = net.draw(max);
  if (flashing) schedule();
  const L = net.layout;
  $('netInfo').textContent = L ? `${v.network}${v.model ? ` (${v.model})` : ''}, instance ${v.instance}: ${L.M ? `M = ${L.M} access points (squares), K = ${L.K - L.M} users (dots)` : `K = ${L.K}`}, ${v.layout?.edges === 'all' ? 'full CSI' : `${L.links} CSI links`}${L.geometric ? '' : ', pairs on a circle (no positions)'}${net.note ? `; ${net.note}` : ''}` : 'no layout recorded for this instance';
  $('status').textContent = a
    ? `${agentsKey}, after round ${a.t + 1}: dead ${a.dead.length ? a.dead.join(', ') : 'none'} · timed out ${a.timedOut.length ? a.timedOut.join(', ') : 'none'} · missing messages ${a.missing.length ? a.missing.map(([k, n]) => `${k} (${n})`).join(', ') : 'none'}`
    : '';
  $('banner').hidden = !state.banner || state.mode !== 'live';
  $('banner').textContent = state.banner;
  // the list only when it changed (a long run's rounds should not rebuild 200 items a frame)
  const logKey = `${v.log.length}|${v.log.at(-1)?.text}|${state.mode}|${v.run?.runId}|${v.instance}|${v.network}`;
  if (logKey === state.logKey) return;
  state.logKey = logKey;
  const log = $('log');
  log.replaceChildren(
    ...[...v.log].reverse().map((e) => {
      const li = document.createElement('li');
      li.className = e.kind;
      li.textContent = `${e.algorithm ?? ''} #${e.instance}: ${e.text}`;
      return li;
    }),
  );
}

// ---- start -----------------------------------------------------------------------------------

$('backToLive').onclick = () => {
  state.mode = 'live';
  $('pick').hidden = true;
  $('backToLive').hidden = true;
  $('comparePanel').hidden = true;
  for (const li of $('runList').children) li.classList.remove('selected');
  history.replaceState(null, '', location.pathname);
  schedule();
};

async function start() {
  state.info = await getJson('/api/info');
  if (state.info.runs) {
    $('runs').hidden = false;
    document.querySelector('main').classList.add('withRuns');
    await loadRuns();
  }
  const hash = new URLSearchParams(location.hash.slice(1));
  if (state.info.live) connect();
  else setConn('finished runs', 'ended');
  if (hash.get('compare')) {
    $('compareWith').value = hash.get('compare');
    await setCompare(hash.get('compare'));
  }
  if (hash.get('run')) await openRun(hash.get('run'));
  else if (!state.info.live) {
    const first = $('runList').firstElementChild;
    if (first) await openRun(first.dataset.run);
  }
}
start().catch((e) => setConn(`error: ${e.message}`, 'off'));
