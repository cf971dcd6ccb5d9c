// The network on one canvas: transmitters (squares) and receivers (dots) at their positions (a
// circle when the model has none), CSI links j -> k as one thin path, each pair's direct link and
// its nodes coloured by power, and marks for dead, timed-out and message-missing agents. Paths
// are batched by colour, so K = 1000 with tens of thousands of links is a few draw calls. A
// cell-free layout (layout.M) has agents of two types: access points 0..M-1 (squares, grey: they
// transmit no power of their own) and users (dots, coloured by power), with the AP -> user links.

/** Links drawn at most; beyond that every n-th (the note says so). */
const MAX_LINKS = 60000;
/** A complete graph (full CSI) is drawn up to this K; beyond it the links would be one grey disc. */
const FULL_CSI_DRAWN = 60;
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const BUCKETS = 32;
const PALETTE = Array.from({ length: BUCKETS }, (_, i) => {
  const x = (i / (BUCKETS - 1)) * (STOPS.length - 1);
  const a = STOPS[Math.floor(x)], b = STOPS[Math.min(STOPS.length - 1, Math.floor(x) + 1)], f = x - Math.floor(x);
  return `rgb(${a.map((v, j) => Math.round(v + f * (b[j] - v))).join(',')})`;
});
export const DEAD = 'rgb(214,39,40)', LATE = 'rgb(255,127,14)', MISS = 'rgb(212,0,212)';

function decodePairs(b64) {
  const s = atob(b64);
  const out = new Uint16Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = s.charCodeAt(2 * i) | (s.charCodeAt(2 * i + 1) << 8);
  return out;
}

export class NetworkView {
  constructor(canvas, tip) {
    this.canvas = canvas;
    this.tip = tip;
    this.layout = null;
    this.agents = null;
    this.flash = new Map(); // agent -> until (ms)
    this.stats = { drawMs: 0, agents: 0, links: 0 };
    canvas.addEventListener('mousemove', (ev) => this.hover(ev));
    canvas.addEventListener('mouseleave', () => (this.tip.hidden = true));
  }

  setLayout(layout, K) {
    if (this.layout && this.layout.src === layout) return;
    K = layout?.K ?? K ?? 0;
    let tx, rx;
    if (layout?.tx && layout?.rx) {
      tx = Float64Array.from(layout.tx);
      rx = Float64Array.from(layout.rx);
    } else {
      // no positions (Rayleigh): pairs on a circle, transmitters outside, receivers inside
      tx = new Float64Array(2 * K);
      rx = new Float64Array(2 * K);
      for (let k = 0; k < K; k++) {
        const a = (2 * Math.PI * k) / Math.max(1, K) - Math.PI / 2;
        tx[2 * k] = Math.cos(a);
        tx[2 * k + 1] = Math.sin(a);
        rx[2 * k] = 0.8 * Math.cos(a);
        rx[2 * k + 1] = 0.8 * Math.sin(a);
      }
    }
    let pairs = null, all = false;
    if (layout?.edges === 'all') all = true;
    else if (layout?.edges) pairs = decodePairs(layout.edges);
    this.layout = { src: layout, K, tx, rx, pairs, all, links: layout?.links ?? 0, geometric: !!layout?.tx, M: layout?.M ?? 0 };
    this.fit();
  }

  setAgents(agents) {
    this.agents = agents;
  }

  flashAgent(k, ms = 2500) {
    this.flash.set(k, performance.now() + ms);
  }

  /** Canvas pixels for the layout's bounds (aspect kept). */
  fit() {
    const c = this.canvas, L = this.layout;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 400;
    const h = Math.round(w * 0.8);
    c.style.height = `${h}px`;
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    this.dpr = dpr;
    if (!L) return;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const p of [L.tx, L.rx]) for (let i = 0; i < p.length; i += 2) {
      x0 = Math.min(x0, p[i]); x1 = Math.max(x1, p[i]); y0 = Math.min(y0, p[i + 1]); y1 = Math.max(y1, p[i + 1]);
    }
    if (!Number.isFinite(x0)) { x0 = y0 = -1; x1 = y1 = 1; }
    const pad = 14 * dpr;
    const s = Math.min((c.width - 2 * pad) / Math.max(1e-9, x1 - x0), (c.height - 2 * pad) / Math.max(1e-9, y1 - y0));
    const ox = (c.width - s * (x1 - x0)) / 2, oy = (c.height - s * (y1 - y0)) / 2;
    // y grows upwards in the field
    this.map = (x, y) => [ox + s * (x - x0), c.height - (oy + s * (y - y0))];
  }

  /** Where agent k's receiver is drawn, in CSS pixels (for tests and the tooltip). */
  receiverAt(k) {
    const L = this.layout;
    if (!L || k >= L.K) return null;
    const [x, y] = this.map(L.rx[2 * k], L.rx[2 * k + 1]);
    return [x / this.dpr, y / this.dpr];
  }

  draw(scaleMax) {
    const t0 = performance.now();
    const c = this.canvas, L = this.layout, ctx = c.getContext('2d');
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    this.note = '';
    if (!L || !this.map) return;
    const K = L.K, dpr = this.dpr, map = this.map;
    const P = new Float64Array(4 * K); // tx x, y, rx x, y in pixels
    for (let k = 0; k < K; k++) {
      const a = map(L.tx[2 * k], L.tx[2 * k + 1]), b = map(L.rx[2 * k], L.rx[2 * k + 1]);
      P[4 * k] = a[0]; P[4 * k + 1] = a[1]; P[4 * k + 2] = b[0]; P[4 * k + 3] = b[1];
    }
    // CSI links j -> k: transmitter j to receiver k
    let drawn = 0;
    const total = L.all ? K * (K - 1) : L.pairs ? L.pairs.length / 2 : 0;
    const stride = Math.max(1, Math.ceil(total / MAX_LINKS));
    ctx.lineWidth = dpr * 0.6;
    ctx.strokeStyle = `rgba(90,100,130,${Math.max(0.04, Math.min(0.35, 40 / Math.sqrt(Math.max(1, total / stride))))})`;
    ctx.beginPath();
    if (L.pairs) {
      for (let i = 0; i < L.pairs.length; i += 2 * stride) {
        const j = L.pairs[i], k = L.pairs[i + 1];
        ctx.moveTo(P[4 * j], P[4 * j + 1]);
        ctx.lineTo(P[4 * k + 2], P[4 * k + 3]);
        drawn++;
      }
    } else if (L.all && K > FULL_CSI_DRAWN) {
      this.note = `full CSI: all ${total} links, not drawn above K = ${FULL_CSI_DRAWN}`;
    } else if (L.all) {
      let n = 0;
      for (let j = 0; j < K; j++) for (let k = 0; k < K; k++) {
        if (j === k || n++ % stride) continue;
        ctx.moveTo(P[4 * j], P[4 * j + 1]);
        ctx.lineTo(P[4 * k + 2], P[4 * k + 3]);
        drawn++;
      }
    }
    ctx.stroke();
    if (stride > 1 && !this.note) this.note = `showing 1 in ${stride} of ${total} CSI links`;
    // direct links and nodes, batched by colour bucket
    const a = this.agents;
    const max = scaleMax > 0 ? scaleMax : 1;
    const bucket = new Int16Array(K).fill(-1);
    if (a?.power) for (let k = L.M; k < K; k++) bucket[k] = Math.max(0, Math.min(BUCKETS - 1, Math.round((a.power[k] / max) * (BUCKETS - 1))));
    const square = (k) => k < L.M || !L.M, dot = (k) => k >= L.M; // cell-free: APs squares, users dots
    const r = Math.max(1.5, Math.min(5, 120 / Math.sqrt(K))) * dpr;
    for (let b = -1; b < BUCKETS; b++) {
      ctx.beginPath();
      let any = false;
      for (let k = 0; k < K; k++) {
        if (bucket[k] !== b) continue;
        any = true;
        ctx.moveTo(P[4 * k], P[4 * k + 1]);
        ctx.lineTo(P[4 * k + 2], P[4 * k + 3]);
      }
      if (!any) continue;
      const color = b < 0 ? '#9aa' : PALETTE[b];
      ctx.strokeStyle = color;
      ctx.lineWidth = Math.max(1, r / 2.5);
      ctx.stroke();
      ctx.fillStyle = color;
      ctx.beginPath();
      for (let k = 0; k < K; k++) if (bucket[k] === b && square(k)) ctx.rect(P[4 * k] - r * 0.8, P[4 * k + 1] - r * 0.8, 1.6 * r, 1.6 * r);
      ctx.fill();
      ctx.beginPath();
      for (let k = 0; k < K; k++) if (bucket[k] === b && dot(k)) { ctx.moveTo(P[4 * k + 2] + r, P[4 * k + 3]); ctx.arc(P[4 * k + 2], P[4 * k + 3], r, 0, 2 * Math.PI); }
      ctx.fill();
    }
    // marks: message-missing (dot), timed out (ring), dead (cross), injected faults (pulse)
    const mark = (ks, color, width, f) => {
      if (!ks.length) return;
      ctx.strokeStyle = ctx.fillStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      for (const k of ks) if (k < K) f(P[4 * k + 2], P[4 * k + 3]);
      width ? ctx.stroke() : ctx.fill();
    };
    const R = Math.max(r * 1.9, 4 * dpr);
    if (a) {
      mark(a.missing.map((m) => m[0]), MISS, 0, (x, y) => { ctx.moveTo(x + R * 0.45 + r, y - R * 0.6); ctx.arc(x + R * 0.45, y - R * 0.6, r, 0, 2 * Math.PI); });
      mark(a.timedOut, LATE, 1.5 * dpr, (x, y) => { ctx.moveTo(x + R, y); ctx.arc(x, y, R, 0, 2 * Math.PI); });
      mark(a.dead, DEAD, 2.5 * dpr, (x, y) => { ctx.moveTo(x - R, y - R); ctx.lineTo(x + R, y + R); ctx.moveTo(x + R, y - R); ctx.lineTo(x - R, y + R); });
    }
    const now = performance.now();
    const flashing = [...this.flash].filter(([, until]) => until > now).map(([k]) => k);
    for (const [k, until] of this.flash) if (until <= now) this.flash.delete(k);
    mark(flashing, DEAD, 2 * dpr, (x, y) => { const q = R * (1.6 + 0.6 * Math.sin(now / 120)); ctx.moveTo(x + q, y); ctx.arc(x, y, q, 0, 2 * Math.PI); });
    this.stats = { drawMs: performance.now() - t0, agents: K, links: drawn };
    this.canvas.dataset.agents = String(K);
    this.canvas.dataset.links = String(drawn);
    this.canvas.dataset.dead = (a?.dead ?? []).join(',');
    return flashing.length > 0; // the caller draws again while something flashes
  }

  hover(ev) {
    const L = this.layout;
    if (!L || !this.map) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = (ev.clientX - rect.left) * this.dpr, y = (ev.clientY - rect.top) * this.dpr;
    let best = -1, bd = (10 * this.dpr) ** 2, role = '';
    for (let k = 0; k < L.K; k++) for (const [p, name] of [[L.rx, 'receiver'], [L.tx, 'transmitter']]) {
      const [px, py] = this.map(p[2 * k], p[2 * k + 1]);
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bd) { bd = d; best = k; role = name; }
    }
    if (best < 0) return void (this.tip.hidden = true);
    const a = this.agents;
    const miss = a?.missing.find((m) => m[0] === best);
    const parts = [`agent ${best} (${L.M ? (best < L.M ? `access point ${best}` : `user ${best - L.M}`) : role})`];
    if (a?.power) parts.push(`power ${a.power[best]}`);
    if (a?.dead.includes(best)) parts.push('dead');
    if (a?.timedOut.includes(best)) parts.push('timed out');
    if (miss) parts.push(`${miss[1]} messages missing`);
    this.tip.textContent = parts.join(' · ');
    this.tip.style.left = `${ev.clientX - rect.left + 12}px`;
    this.tip.style.top = `${ev.clientY - rect.top + 12}px`;
    this.tip.hidden = false;
  }
}
