// The console's page: Preact components in htm templates, served as they are (no build). It
// listens to the console's server-sent events (/api/stream: the state every second;
// /api/logs/stream: log lines as they are written) and calls its JSON API for the rest.
import { html, render, useEffect, useMemo, useState } from '/assets/preact-htm.js';

const tabs = [['services', 'Services'], ['charts', 'Charts'], ['map', 'Map'], ['traces', 'Traces'], ['messaging', 'Messaging'], ['faults', 'Faults'], ['logs', 'Logs'], ['mail', 'Mail']];

/** Sends JSON to the console (what changes something must be JSON: local-only.ts). */
async function send(method, path, body) {
  const response = await fetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** The hash is the page's place: #map, #traces, #trace/<id>, #logs/<service>. */
function useRoute() {
  const read = () => (location.hash.slice(1) || 'services').split('/');
  const [route, setRoute] = useState(read());
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The state the server streams each second; `connected` false while the stream is down. */
function useLiveState() {
  const [state, setState] = useState({ services: [], edges: [], at: undefined });
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/stream');
    source.addEventListener('state', (event) => { setState(JSON.parse(event.data)); setConnected(true); });
    source.onerror = () => setConnected(false);
    return () => source.close();
  }, []);
  return { state, connected };
}

const fixed = (n, digits = 1) => (n === undefined || n === null ? '—' : Number(n).toFixed(digits));
const megabytes = (bytes) => (bytes === undefined ? '—' : `${(bytes / 1048576).toFixed(0)} MB`);
function duration(ms) {
  if (ms === undefined) return '—';
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function Services({ services }) {
  const [problem, setProblem] = useState(undefined);
  const act = (name, action) => send('POST', `/api/services/${name}/${action}`).then(() => setProblem(undefined), (error) => setProblem(String(error)));
  return html`<section aria-labelledby="services-heading">
    <h2 id="services-heading">Services</h2>
    ${problem && html`<p class="notice" role="alert">${problem}</p>`}
    <table>
      <caption class="visually-hidden">Each service's process, live</caption>
      <thead><tr>
        <th scope="col">service</th><th scope="col">state</th><th scope="col" class="num">pid</th><th scope="col" class="num">restarts</th><th scope="col">up</th>
        <th scope="col" class="num">CPU (cores)</th><th scope="col" class="num">RSS</th><th scope="col" class="num">req/s</th><th scope="col" class="num">5xx/s</th>
        <th scope="col" class="num">p99 ms</th><th scope="col" class="num">shed/s</th><th scope="col" class="num">outbox</th><th scope="col" class="num">dead letters</th><th scope="col">do</th>
      </tr></thead>
      <tbody>${services.map((s) => html`<tr data-service=${s.name}>
        <th scope="row"><a href=${`#logs/${s.name}`}>${s.name}</a></th>
        <td class=${`state ${s.state}`}>${s.state}</td>
        <td class="num">${s.pid ?? '—'}</td><td class="num">${s.restarts}</td><td>${duration(s.uptimeMs)}</td>
        <td class="num">${fixed(s.cores, 2)}</td><td class="num">${megabytes(s.rssBytes)}</td>
        <td class="num">${fixed(s.figures?.requestsPerSecond)}</td><td class="num">${fixed(s.figures?.errorsPerSecond)}</td>
        <td class="num">${fixed(s.figures?.p99Ms, 0)}</td><td class="num">${fixed(s.figures?.shedPerSecond)}</td>
        <td class="num">${s.figures?.outboxPending ?? '—'}</td><td class="num">${s.figures?.deadLetters ?? '—'}</td>
        <td class="actions">
          <button type="button" disabled=${s.state !== 'stopped' && s.state !== 'failed'} onClick=${() => act(s.name, 'start')}>Start<span class="visually-hidden"> ${s.name}</span></button>
          <button type="button" disabled=${s.state !== 'ready'} onClick=${() => act(s.name, 'stop')}>Stop<span class="visually-hidden"> ${s.name}</span></button>
          <button type="button" disabled=${s.pid === undefined} onClick=${() => act(s.name, 'kill')}>Kill<span class="visually-hidden"> ${s.name}</span></button>
          <button type="button" disabled=${s.state !== 'ready'} onClick=${() => act(s.name, 'restart')}>Restart<span class="visually-hidden"> ${s.name}</span></button>
        </td>
      </tr>`)}</tbody>
    </table>
    <p class="muted">Kill is a crash (SIGKILL): the runner starts the service again after a backoff. Stop is graceful, and it stays down until Start.</p>
  </section>`;
}

// Where each service sits on the map: the entry on the left, what it calls in the middle, and
// what those call to the right. Boxes are 120 by 40.
const places = {
  gateway: [80, 230], users: [400, 40], inventory: [400, 135], media: [400, 230], orders: [400, 325], notifications: [400, 420],
  payment: [700, 325], provider: [920, 325],
};
const edgeText = (e) => e.via === 'feed'
  ? `${fixed(e.perSecond)} reads/s`
  : `${fixed(e.perSecond)}/s${e.errorsPerSecond > 0 ? `, ${fixed(e.errorsPerSecond)} err/s` : ''}${e.p99Ms === undefined ? '' : `, p99 ${fixed(e.p99Ms, 0)} ms`}${e.breaker === 'closed' ? '' : `, breaker ${e.breaker}`}`;

/** A curve from one box to another, bowed to one side so a pair's two directions do not overlap; and where its label goes. */
function curveOf(from, to) {
  const [x1, y1] = places[from];
  const [x2, y2] = places[to];
  const dx = x2 - x1;
  const dy = y2 - y1;
  const leave = (sign) => {
    const t = Math.min(dx === 0 ? Infinity : 62 / Math.abs(dx), dy === 0 ? Infinity : 22 / Math.abs(dy));
    return sign > 0 ? [x1 + dx * t, y1 + dy * t] : [x2 - dx * t, y2 - dy * t];
  };
  const [sx, sy] = leave(1);
  const [ex, ey] = leave(-1);
  const length = Math.hypot(dx, dy) || 1;
  const bow = Math.min(60, 0.25 * length);
  const cx = (sx + ex) / 2 - (dy / length) * bow;
  const cy = (sy + ey) / 2 + (dx / length) * bow;
  return { d: `M${sx},${sy} Q${cx},${cy} ${ex},${ey}`, labelX: (sx + 2 * cx + ex) / 4, labelY: (sy + 2 * cy + ey) / 4 };
}

function NetworkMap({ services, edges }) {
  const known = (name) => places[name] !== undefined;
  const drawn = edges.filter((e) => known(e.from) && known(e.to) && e.from !== e.to && e.via !== 'event');
  // Only an edge with something to say is labelled: traffic in the last second, or a breaker not closed.
  const busy = (e) => e.perSecond > 0 || e.breaker !== 'closed';
  return html`<section class="map" aria-labelledby="map-heading">
    <h2 id="map-heading">Map</h2>
    <p class="muted">Calls (solid, caller to callee), and a consumer's reads of a publisher's events (dashed), over the last second. Red: a breaker is open; amber: half-open.</p>
    <svg viewBox="0 0 1000 460" role="img" aria-label="The call graph; the table below says the same in words">
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555" /></marker></defs>
      ${drawn.map((e) => {
        const curve = curveOf(e.from, e.to);
        return html`<g>
          <path class=${`edge ${e.breaker} ${e.via}`} d=${curve.d} marker-end="url(#arrow)" />
          ${busy(e) && html`<text x=${curve.labelX} y=${curve.labelY - 4} text-anchor="middle" class=${`breaker ${e.breaker}`}>${edgeText(e)}</text>`}
        </g>`;
      })}
      ${services.filter((s) => known(s.name)).map((s) => html`<g class="node">
        <rect x=${places[s.name][0] - 60} y=${places[s.name][1] - 20} width="120" height="40" rx="6" />
        <text x=${places[s.name][0]} y=${places[s.name][1] - 3} text-anchor="middle">${s.name}</text>
        <text x=${places[s.name][0]} y=${places[s.name][1] + 13} text-anchor="middle" class=${`state ${s.state}`}>${s.state}</text>
      </g>`)}
    </svg>
    <table>
      <caption>Every edge, over the last second</caption>
      <thead><tr>
        <th scope="col">from</th><th scope="col">to</th><th scope="col">kind</th><th scope="col" class="num">per s</th><th scope="col" class="num">errors/s</th>
        <th scope="col" class="num">p99 ms</th><th scope="col">breaker</th><th scope="col" class="num">retries/s</th><th scope="col" class="num">give-ups/s</th>
        <th scope="col" class="num">retry budget</th><th scope="col" class="num">in flight</th><th scope="col" class="num">refused/s</th><th scope="col" class="num">lag s</th>
      </tr></thead>
      <tbody>${edges.map((e) => html`<tr data-edge=${`${e.from}->${e.to}`}>
        <td>${e.from}</td><td>${e.to}</td><td>${e.via}</td><td class="num">${fixed(e.perSecond)}</td><td class="num">${fixed(e.errorsPerSecond)}</td>
        <td class="num">${fixed(e.p99Ms, 0)}</td>
        <td class=${`breaker ${e.breaker}`}>${e.via === 'event' ? '—' : e.breaker}${e.instances.some((i) => i.breaker !== 'closed') && e.instances.length > 1 ? ` (${e.instances.filter((i) => i.breaker !== 'closed').length} of ${e.instances.length} instances)` : ''}</td>
        <td class="num">${fixed(e.retriesPerSecond)}</td><td class="num">${fixed(e.giveUpsPerSecond)}</td><td class="num">${fixed(e.retryBudget)}</td>
        <td class="num">${e.inFlight ?? '—'}</td><td class="num">${fixed(e.refusedPerSecond)}</td><td class="num">${fixed(e.lagSeconds, 2)}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

// The resilience decisions the kit records on spans, in words.
function decisionsOf(span) {
  const out = [];
  const resend = span.attributes['http.request.resend_count'];
  if (resend !== undefined) out.push(['retry', `retry #${resend}`]);
  if (span.attributes['baton.hedge'] === true) out.push(['hedge', 'hedged attempt']);
  if (span.attributes['baton.deadline_ms'] !== undefined) out.push(['deadline', `${span.attributes['baton.deadline_ms']} ms of deadline left`]);
  if (span.attributes['baton.error.code'] !== undefined) out.push(['error', `ended: ${span.attributes['baton.error.code']}`]);
  const status = span.attributes['http.response.status_code'];
  if (status === 503 && span.kind === 'server') out.push(['error', 'answered 503']);
  for (const event of span.events) {
    const a = event.attributes;
    if (event.name === 'baton.retry') out.push(['retry', `retrying after attempt ${a.attempt} failed (${a['baton.error.code']}), in ${a.delay_ms} ms`]);
    else if (event.name === 'baton.give_up') out.push(['give-up', `gave up after attempt ${a.attempt}: ${a.reason} (${a['baton.error.code']})`]);
    else if (event.name === 'baton.breaker_rejected') out.push(['breaker', `breaker open: not sent to ${a.instance}`]);
    else if (event.name === 'baton.hedge') out.push(['hedge', `hedged after ${a.delay_ms} ms`]);
  }
  return out;
}

function Waterfall({ traceId }) {
  const [trace, setTrace] = useState(undefined);
  const [problem, setProblem] = useState(undefined);
  useEffect(() => {
    fetch(`/traces/${traceId}`).then(async (r) => (r.ok ? setTrace(await r.json()) : setProblem(`${r.status}: ${await r.text()}`)), (e) => setProblem(String(e)));
  }, [traceId]);
  if (problem) return html`<p class="notice" role="alert">${problem}</p>`;
  if (!trace) return html`<p>Loading the trace…</p>`;
  const total = Math.max(trace.durationMs, 0.001);
  return html`<section aria-labelledby="trace-heading">
    <h2 id="trace-heading">${trace.root}</h2>
    <p class="muted"><a href="#traces">All traces</a> · ${trace.traceId} · ${fixed(trace.durationMs)} ms · ${trace.spanCount} spans · ${trace.errors} in error ·
      <a href=${`#logs/all/${trace.traceId}`}>its log lines</a></p>
    <div class="waterfall" role="list">
      ${trace.spans.map((span) => html`<div class="row" role="listitem" data-span=${span.name}>
        <div style=${`padding-left:${span.depth}rem`}><strong>${span.service}</strong> ${span.name} <span class="muted">${fixed(span.durationMs)} ms</span></div>
        <div class="bar-track" aria-hidden="true"><div class=${`bar ${span.status === 'error' ? 'error' : ''}`} style=${`left:${(span.offsetMs / total) * 100}%;width:${(span.durationMs / total) * 100}%`}></div></div>
        ${decisionsOf(span).length > 0 && html`<div class="decisions">${decisionsOf(span).map(([kind, text]) => html`<span class=${`badge ${kind}`}>${text}</span>`)}</div>`}
      </div>`)}
    </div>
  </section>`;
}

function Traces() {
  const [query, setQuery] = useState({ kind: 'user', service: '', q: '', errors: false, minMs: '' });
  const [traces, setTraces] = useState([]);
  const search = useMemo(() => () => {
    const params = new URLSearchParams({ limit: '100' });
    if (query.kind) params.set('kind', query.kind);
    if (query.service) params.set('service', query.service);
    if (query.q) params.set('q', query.q);
    if (query.errors) params.set('errors', 'true');
    if (query.minMs) params.set('minMs', query.minMs);
    fetch(`/traces?${params}`).then((r) => r.json()).then((body) => setTraces(body.traces ?? []), () => {});
  }, [query]);
  useEffect(() => {
    search();
    const timer = setInterval(search, 2000);
    return () => clearInterval(timer);
  }, [search]);
  const set = (field) => (event) => setQuery({ ...query, [field]: event.target.type === 'checkbox' ? event.target.checked : event.target.value });
  return html`<section aria-labelledby="traces-heading">
    <h2 id="traces-heading">Traces</h2>
    <form class="filters" onSubmit=${(e) => { e.preventDefault(); search(); }}>
      <label>Kind<select value=${query.kind} onChange=${set('kind')}><option value="user">requests people made</option><option value="background">the shop's own work</option><option value="">both</option></select></label>
      <label>Service<input value=${query.service} onInput=${set('service')} placeholder="any" /></label>
      <label>Route, words or trace id<input value=${query.q} onInput=${set('q')} placeholder="POST /api/v1/orders" /></label>
      <label>Slower than (ms)<input type="number" min="0" value=${query.minMs} onInput=${set('minMs')} /></label>
      <label><span>Errors only</span><input type="checkbox" checked=${query.errors} onChange=${set('errors')} /></label>
    </form>
    <table>
      <caption class="visually-hidden">The newest traces that match, newest first</caption>
      <thead><tr><th scope="col">started</th><th scope="col">root</th><th scope="col">services</th><th scope="col" class="num">ms</th><th scope="col" class="num">spans</th><th scope="col" class="num">errors</th></tr></thead>
      <tbody>${traces.map((t) => html`<tr>
        <td>${new Date(t.startedAt).toLocaleTimeString()}</td>
        <td><a href=${`#trace/${t.traceId}`}>${t.root}</a></td>
        <td>${t.services.join(', ')}</td><td class="num">${fixed(t.durationMs)}</td><td class="num">${t.spanCount}</td>
        <td class=${t.errors > 0 ? 'num error' : 'num'}>${t.errors}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

const presets = [
  ['Fail every request (503)', { route: '*', percent: 100, status: 503 }],
  ['Fail half (500)', { route: '*', percent: 50, status: 500 }],
  ['Slow every request (+2 s)', { route: '*', percent: 100, latencyMs: 2000 }],
  ['Reset connections', { route: '*', percent: 100, reset: true }],
];

function ServiceFaults({ name }) {
  const [rules, setRules] = useState([]);
  const [problem, setProblem] = useState(undefined);
  const [route, setRoute] = useState('*');
  const load = () => fetch(`/api/faults/${name}`).then((r) => r.json()).then((body) => setRules(Array.isArray(body) ? body : body.rules ?? []), (e) => setProblem(String(e)));
  useEffect(() => { load(); }, [name]);
  const replace = (next) => send('PUT', `/api/faults/${name}`, { rules: next }).then(() => { setProblem(undefined); return load(); }, (e) => setProblem(String(e)));
  const clear = () => send('DELETE', `/api/faults/${name}`).then(() => { setProblem(undefined); return load(); }, (e) => setProblem(String(e)));
  return html`<section data-faults=${name}>
    <h3>${name}</h3>
    ${problem && html`<p class="notice" role="alert">${problem}</p>`}
    <p>${rules.length === 0 ? 'No faults.' : rules.map((r) => html`<span class="badge error">${r.method ?? 'any'} ${r.route}: ${r.percent}%${r.status ? ` → ${r.status}` : ''}${r.latencyMs ? ` +${r.latencyMs} ms` : ''}${r.reset ? ' reset' : ''}</span> `)}</p>
    <form onSubmit=${(e) => e.preventDefault()}>
      <label>Route<input value=${route} onInput=${(e) => setRoute(e.target.value)} aria-label=${`Route of ${name} to break`} /></label>
      ${presets.map(([label, rule]) => html`<button type="button" onClick=${() => replace([...rules, { ...rule, route }])}>${label}<span class="visually-hidden"> on ${name}</span></button>`)}
      <button type="button" onClick=${clear} disabled=${rules.length === 0}>Clear<span class="visually-hidden"> ${name}'s faults</span></button>
    </form>
    <p>The whole process:
      <button type="button" onClick=${() => send('POST', `/api/services/${name}/freeze`).catch((e) => setProblem(String(e)))}>Freeze<span class="visually-hidden"> ${name}</span></button>
      <button type="button" onClick=${() => send('POST', `/api/services/${name}/thaw`).catch((e) => setProblem(String(e)))}>Thaw<span class="visually-hidden"> ${name}</span></button>
      <span class="muted">(SIGSTOP: it hangs with its connections open, as a process stuck in a long pause does; SIGCONT wakes it)</span>
    </p>
  </section>`;
}

/** A run's requests a second (answered well, and not), with the fault's window shaded. */
function RunChart({ report }) {
  const { timeline } = report.verdict;
  const width = 600;
  const height = 90;
  const good = timeline.map((s) => s.counts.ok + s.counts.refused);
  const bad = timeline.map((s) => s.counts.unavailable + s.counts.failed + (s.counts.unreachable ?? 0) + s.counts['no-answer']);
  const top = Math.max(1, ...good.map((g, i) => g + bad[i]));
  const x = (second) => (timeline.length <= 1 ? 0 : (second / (timeline.length - 1)) * width);
  const y = (v) => (height - (v / top) * (height - 4) - 2).toFixed(1);
  const line = (values) => values.map((v, i) => `${x(i).toFixed(1)},${y(v)}`).join(' ');
  const from = x(report.faultStartMs / 1000);
  const to = Math.max(from + 2, x(report.faultEndMs / 1000));
  return html`<figure class="run-chart">
    <svg viewBox=${`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-hidden="true">
      <rect class="fault-window" x=${from} y="0" width=${to - from} height=${height} />
      <polyline class="good" points=${line(good)} />
      <polyline class="bad" points=${line(bad)} />
    </svg>
    <figcaption>Requests a second: answered (blue) and failed (red); the fault from ${fixed(report.faultStartMs / 1000)} s to ${fixed(report.faultEndMs / 1000)} s (shaded), the run ${fixed(report.endMs / 1000)} s.</figcaption>
  </figure>`;
}

function ScenarioReport({ report }) {
  if (report.error) return html`<article class="report"><h4>${report.scenario}: <span class="error">could not run</span></h4><p>${report.error}</p></article>`;
  const { verdict } = report;
  return html`<article class="report" data-report=${report.scenario}>
    <h4>${report.scenario}: <span class=${verdict.passed ? 'state ready' : 'state failed'}>${verdict.passed ? 'passed' : 'failed'}</span> <span class="muted">${new Date(report.startedAt).toLocaleTimeString()}</span></h4>
    <p class="muted">${report.promise}</p>
    <table><thead><tr><th scope="col">check</th><th scope="col">verdict</th><th scope="col">what the data says</th></tr></thead><tbody>
      ${verdict.checks.map((c) => html`<tr><th scope="row">${c.name}</th><td class=${c.passed ? 'state ready' : 'state failed'}>${c.passed ? 'passed' : 'failed'}</td><td>${c.detail}</td></tr>`)}
    </tbody></table>
    <p>${verdict.requests} requests: ${Object.entries(verdict.byOutcome).map(([outcome, n]) => `${n} ${outcome}`).join(', ')}.</p>
    <${RunChart} report=${report} />
  </article>`;
}

/** The named scenarios: a shopper load, one fault, and the verdict (`@baton/chaos`). */
function Scenarios({ summary }) {
  const [listing, setListing] = useState({ scenarios: [], reports: [], running: null });
  const [problem, setProblem] = useState(undefined);
  const load = () => fetch('/api/scenarios').then((r) => r.json()).then(setListing, (e) => setProblem(String(e)));
  useEffect(() => { load(); }, [summary?.reports, summary?.running?.name]);
  const running = summary?.running ?? listing.running;
  const run = (name) => send('POST', `/api/scenarios/${name}/run`).then(() => { setProblem(undefined); load(); }, (e) => setProblem(String(e)));
  return html`<section class="scenarios" aria-labelledby="scenarios-heading">
    <h3 id="scenarios-heading">Scenarios</h3>
    <p class="muted">Each runs six shoppers against the shop for half a minute (browse, buy with a test card, cancel), breaks one thing in the middle, and judges from what the shoppers saw and what the shop recorded: no hang, no 500, answers within their deadline, the time to recover, and every acknowledged order's email sent once.</p>
    ${problem && html`<p class="notice" role="alert">${problem}</p>`}
    <p role="status">${running ? `Running ${running.name}: ${running.phase}` : 'No scenario running.'}</p>
    <ul class="scenario-list">${listing.scenarios.map((s) => html`<li>
      <button type="button" onClick=${() => run(s.name)} disabled=${Boolean(running) || !s.runs}>Run<span class="visually-hidden"> ${s.name}</span></button>
      <strong>${s.name}</strong>: ${s.title}${s.runs ? '' : html` <span class="muted">(not in this stack)</span>`}</li>`)}</ul>
    ${listing.reports.map((report) => html`<${ScenarioReport} key=${report.startedAt} report=${report} />`)}
  </section>`;
}

/** The reports `npm run chaos` wrote (under var/chaos), newest first, each a page of its own. */
function ChaosReports() {
  const [runs, setRuns] = useState(undefined);
  useEffect(() => { fetch('/api/chaos-runs').then((r) => (r.ok ? r.json() : { runs: [] })).then((body) => setRuns(body.runs), () => setRuns([])); }, []);
  if (runs === undefined) return null;
  return html`<section class="chaos-reports" aria-labelledby="chaos-reports-heading">
    <h3 id="chaos-reports-heading">Reports of npm run chaos</h3>
    ${runs.length === 0
      ? html`<p class="muted">None yet: <code>npm run chaos</code> runs every scenario on a shop of its own and writes its report here.</p>`
      : html`<ul class="chaos-runs">${runs.map((r) => html`<li key=${r.run}>
          <a href=${`/chaos/${encodeURIComponent(r.run)}/report.html`}>${r.startedAt}</a>:
          <span class=${r.passed ? 'state ready' : 'state failed'}>${r.passed ? 'passed' : 'failed'}</span>
          (${r.scenarios} scenarios${r.short ? ', short windows' : ''}${r.failed.length > 0 ? `; failed: ${r.failed.join(', ')}` : ''})</li>`)}</ul>`}
  </section>`;
}

function Faults({ services, scenarios }) {
  return html`<section class="faults" aria-labelledby="faults-heading">
    <h2 id="faults-heading">Faults</h2>
    <${Scenarios} summary=${scenarios} />
    <${ChaosReports} />
    <p class="muted">The kit's fault injection on each service's own port, on its HTTP routes and its gRPC methods (a route such as <code>/v1/reservations</code>, a method such as <code>/baton.inventory.v1.InventoryService/CreateReservation</code>, or <code>*</code>): a share of requests answered with an error, slowed or reset. Watch the Map and the Traces while one is on.</p>
    ${services.map((s) => html`<${ServiceFaults} key=${s.name} name=${s.name} />`)}
  </section>`;
}

function Logs({ services, service: initialService, traceId }) {
  const [filter, setFilter] = useState({ service: initialService && initialService !== 'all' ? initialService : '', level: '', q: traceId ?? '' });
  const [lines, setLines] = useState([]);
  useEffect(() => {
    setLines([]);
    const params = new URLSearchParams({ limit: '300' });
    if (filter.service) params.set('service', filter.service);
    if (filter.level) params.set('level', filter.level);
    if (filter.q) params.set('q', filter.q);
    const source = new EventSource(`/api/logs/stream?${params}`);
    source.addEventListener('line', (event) => setLines((old) => [...old.slice(-499), JSON.parse(event.data)]));
    return () => source.close();
  }, [filter.service, filter.level, filter.q]);
  const set = (field) => (event) => setFilter({ ...filter, [field]: event.target.value });
  // The lines' box is focusable: once they overflow it, the keyboard must be able to scroll them (WCAG 2.1.1).
  return html`<section aria-labelledby="logs-heading">
    <h2 id="logs-heading">Logs</h2>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>Service<select value=${filter.service} onChange=${set('service')}><option value="">every one</option><option value="runner">runner</option>${services.map((s) => html`<option value=${s.name}>${s.name}</option>`)}</select></label>
      <label>Level<select value=${filter.level} onChange=${set('level')}><option value="">any</option>${['debug', 'info', 'warn', 'error'].map((l) => html`<option value=${l}>${l} and above</option>`)}</select></label>
      <label>Words (a trace id, a request id)<input value=${filter.q} onInput=${set('q')} /></label>
    </form>
    <div class="logs" role="log" aria-live="off" aria-label="Log lines, newest last" tabindex="0">
      ${lines.map((line) => html`<div class=${`line ${line.level}`}><span class="muted">${line.time.slice(11, 23)}</span> <strong>${line.service}</strong> ${line.level} ${line.msg}</div>`)}
    </div>
  </section>`;
}

/** A small line chart of one figure over the last minutes, with its latest value said in words. */
function Chart({ label, points, value, unit }) {
  const values = points.map((p) => value(p) ?? 0);
  const top = Math.max(1, ...values);
  const width = 300;
  const height = 60;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const line = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / top) * (height - 4) - 2).toFixed(1)}`).join(' ');
  const latest = values.at(-1);
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${width} ${height}`} preserveAspectRatio="none" aria-hidden="true"><polyline points=${line} /></svg>
    <figcaption>${label}: <strong>${latest === undefined ? '—' : fixed(latest, unit === 'ms' ? 0 : 1)}</strong> ${unit} now, at most ${fixed(top, unit === 'ms' ? 0 : 1)} over ${Math.round(values.length / 60)} min</figcaption>
  </figure>`;
}

/** Each service's rate, errors and duration (RED), a point a second over the last five minutes. */
function Charts() {
  const [history, setHistory] = useState({});
  useEffect(() => {
    const load = () => fetch('/api/history').then((r) => r.json()).then((body) => setHistory(body.services ?? {}), () => {});
    load();
    const timer = setInterval(load, 2000);
    return () => clearInterval(timer);
  }, []);
  return html`<section aria-labelledby="charts-heading">
    <h2 id="charts-heading">Charts</h2>
    <p class="muted">Requests a second, answers of 500 and above a second, and the p99 of their duration, for each service's HTTP routes, over the last five minutes.</p>
    <div class="charts">${Object.entries(history).map(([name, points]) => html`<section class="service-charts" aria-label=${`${name}'s figures`}>
      <h3>${name}</h3>
      <${Chart} label="requests/s" points=${points} value=${(p) => p.requestsPerSecond} unit="/s" />
      <${Chart} label="5xx/s" points=${points} value=${(p) => p.errorsPerSecond} unit="/s" />
      <${Chart} label="p99" points=${points} value=${(p) => p.p99Ms} unit="ms" />
    </section>`)}</div>
  </section>`;
}

/** The trace an event was published in (its CloudEvents `traceparent`), for a link to it. */
const traceOf = (event) => /^00-([0-9a-f]{32})-/.exec(event?.traceparent ?? '')?.[1];

/** One consumer's dead letters: each event it gave up on, why, and a way to apply it again. */
function DeadLetters({ name }) {
  const [items, setItems] = useState(undefined);
  const [problem, setProblem] = useState(undefined);
  const [done, setDone] = useState(undefined);
  const load = () => fetch(`/api/dead-letters/${name}`).then(async (r) => (r.ok ? setItems((await r.json()).items ?? []) : setProblem(`${r.status}: ${await r.text()}`)), (e) => setProblem(String(e)));
  useEffect(() => { load(); }, [name]);
  const replay = (path) => send('POST', path).then((answer) => { setProblem(undefined); setDone(JSON.stringify(answer)); return load(); }, (e) => setProblem(String(e)));
  return html`<section data-dead-letters=${name}>
    <h3>Dead letters of ${name}</h3>
    ${problem && html`<p class="notice" role="alert">${problem}</p>`}
    ${done && html`<p role="status" class="muted">Redriven: ${done}</p>`}
    ${items === undefined ? html`<p>Loading…</p>` : items.length === 0 ? html`<p>None: every event was applied.</p>` : html`
      <p><button type="button" onClick=${() => replay(`/api/dead-letters/${name}/replay`)}>Redrive all<span class="visually-hidden"> of ${name}'s dead letters</span></button></p>
      <table>
        <caption class="visually-hidden">${name}'s dead letters, oldest first</caption>
        <thead><tr><th scope="col">dead since</th><th scope="col">event</th><th scope="col">error</th><th scope="col" class="num">attempts</th><th scope="col">trace</th><th scope="col">do</th></tr></thead>
        <tbody>${items.map((d) => html`<tr>
          <td>${new Date(d.deadAt).toLocaleTimeString()}</td><td>${d.type} <span class="muted">${d.eventId}</span></td>
          <td class="error">${d.error}</td><td class="num">${d.attempts}</td>
          <td>${traceOf(d.event) ? html`<a href=${`#trace/${traceOf(d.event)}`}>its trace</a>` : '—'}</td>
          <td><button type="button" onClick=${() => replay(`/api/dead-letters/${name}/${d.id}/replay`)}>Redrive<span class="visually-hidden"> ${d.eventId}</span></button></td>
        </tr>`)}</tbody>
      </table>`}
  </section>`;
}

/** Each publisher's outbox and each consumer's deliveries, lag and dead letters. */
function Messaging({ services, edges }) {
  const publishers = services.filter((s) => s.figures?.outboxPending !== undefined);
  const consumers = services.filter((s) => s.figures?.deadLetters !== undefined);
  const deliveries = edges.filter((e) => e.via === 'event');
  return html`<section aria-labelledby="messaging-heading">
    <h2 id="messaging-heading">Messaging</h2>
    <table>
      <caption>Publishers: events written in the same transaction as the change, waiting for the relay</caption>
      <thead><tr><th scope="col">service</th><th scope="col" class="num">outbox backlog</th><th scope="col" class="num">oldest waiting (s)</th></tr></thead>
      <tbody>${publishers.map((s) => html`<tr><td>${s.name}</td><td class="num">${s.figures.outboxPending}</td><td class="num">${fixed(s.figures.outboxOldestSeconds, 1)}</td></tr>`)}</tbody>
    </table>
    <table>
      <caption>Consumers, over the last second</caption>
      <thead><tr><th scope="col">consumer</th><th scope="col">of</th><th scope="col" class="num">events/s</th><th scope="col" class="num">failed/s</th><th scope="col" class="num">redeliveries/s</th><th scope="col" class="num">lag p99 (s)</th><th scope="col" class="num">dead letters</th></tr></thead>
      <tbody>${deliveries.map((e) => html`<tr>
        <td>${e.from}</td><td>${e.to}</td><td class="num">${fixed(e.perSecond)}</td><td class="num">${fixed(e.errorsPerSecond)}</td>
        <td class="num">${fixed(e.retriesPerSecond)}</td><td class="num">${fixed(e.lagSeconds, 2)}</td>
        <td class="num">${services.find((s) => s.name === e.from)?.figures?.deadLetters ?? '—'}</td>
      </tr>`)}</tbody>
    </table>
    ${consumers.map((s) => html`<${DeadLetters} key=${s.name} name=${s.name} />`)}
  </section>`;
}

/** The emails notifications sent (files under npm start), newest first; one opened as a shopper would read it. */
function MailTab({ id }) {
  const [items, setItems] = useState([]);
  const [mail, setMail] = useState(undefined);
  useEffect(() => {
    const load = () => fetch('/api/mail').then((r) => r.json()).then((body) => setItems(body.items ?? []), () => {});
    load();
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    setMail(undefined);
    if (id) fetch(`/api/mail/${encodeURIComponent(id)}`).then((r) => (r.ok ? r.json() : undefined)).then(setMail, () => {});
  }, [id]);
  return html`<section aria-labelledby="mail-heading">
    <h2 id="mail-heading">Mail</h2>
    ${mail && html`<article class="mail" aria-label="The email opened">
      <h3>${mail.subject}</h3>
      <dl class="mail-headers"><dt>From</dt><dd>${mail.from}</dd><dt>To</dt><dd>${mail.to}</dd><dt>Sent</dt><dd>${new Date(mail.sentAt).toLocaleString()}</dd></dl>
      <pre class="mail-body">${mail.text}</pre>
    </article>`}
    ${items.length === 0 ? html`<p>No email sent yet.</p>` : html`<table>
      <caption class="visually-hidden">Emails sent, newest first</caption>
      <thead><tr><th scope="col">sent</th><th scope="col">to</th><th scope="col">subject</th></tr></thead>
      <tbody>${items.map((m) => html`<tr><td>${new Date(m.sentAt).toLocaleTimeString()}</td><td>${m.to}</td><td><a href=${`#mail/${m.id}`}>${m.subject}</a></td></tr>`)}</tbody>
    </table>`}
  </section>`;
}

function App() {
  const route = useRoute();
  const { state, connected } = useLiveState();
  const [tab] = route;
  const current = tab === 'trace' ? 'traces' : tab;
  return html`<header>
      <h1>Baton console</h1>
      <nav role="tablist" aria-label="Views">
        ${tabs.map(([id, label]) => html`<button type="button" role="tab" id=${`tab-${id}`} aria-selected=${current === id} aria-controls="view" onClick=${() => { location.hash = id; }}>${label}</button>`)}
      </nav>
      <span class=${connected ? 'muted' : 'error'} role="status">${connected ? `live · ${state.at ? new Date(state.at).toLocaleTimeString() : ''}` : 'not connected to the runner'}</span>
    </header>
    <main id="view" role="tabpanel" aria-labelledby=${`tab-${current}`}>
      ${current === 'services' ? html`<${Services} services=${state.services} />`
      : current === 'map' ? html`<${NetworkMap} services=${state.services} edges=${state.edges} />`
      : tab === 'trace' ? html`<${Waterfall} traceId=${route[1]} />`
      : current === 'traces' ? html`<${Traces} />`
      : current === 'charts' ? html`<${Charts} />`
      : current === 'messaging' ? html`<${Messaging} services=${state.services} edges=${state.edges} />`
      : current === 'faults' ? html`<${Faults} services=${state.services} scenarios=${state.scenarios} />`
      : current === 'mail' ? html`<${MailTab} id=${route[1]} />`
      : html`<${Logs} services=${state.services} service=${route[1]} traceId=${route[2]} />`}
    </main>`;
}

const root = document.getElementById('app');
root.replaceChildren();
render(html`<${App} />`, root);
