import { outcomes, type Outcome, type ScenarioReport } from '@baton/chaos';

/** One `npm run chaos`: what the report files hold. */
export interface ChaosRun {
  run: string;
  startedAt: string;
  /** CI's short windows, or the full ones. */
  short: boolean;
  passed: boolean;
  /** Each scenario's report, why it could not run, or why it was skipped (what it needs is not installed here; never under CI). */
  scenarios: Array<ScenarioReport | { scenario: string; title: string; error: string } | { scenario: string; title: string; skipped: string }>;
}

const colours: Record<Outcome, string> = { ok: '#2e7d32', refused: '#1565c0', unavailable: '#ef6c00', failed: '#c62828', unreachable: '#6a1b9a', 'no-answer': '#212121' };

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The run as one self-contained page (no script, no request elsewhere): a table of every
 * scenario's verdict, then per scenario its checks and a chart of the requests each second by
 * outcome, with the fault's window shaded.
 */
export function renderReport(run: ChaosRun): string {
  const rows = run.scenarios.map((s) => 'skipped' in s
    ? `<tr><td><a href="#${escape(s.scenario)}">${escape(s.scenario)}</a></td><td>skipped</td><td>${escape(s.skipped)}</td></tr>`
    : 'error' in s
    ? `<tr><td><a href="#${escape(s.scenario)}">${escape(s.scenario)}</a></td><td class="failed">could not run</td><td>${escape(s.error)}</td></tr>`
    : `<tr><td><a href="#${escape(s.scenario)}">${escape(s.scenario)}</a></td><td class="${s.verdict.passed ? 'passed' : 'failed'}">${s.verdict.passed ? 'passed' : 'FAILED'}</td><td>${s.verdict.checks.filter((c) => !c.passed).map((c) => escape(`${c.name}: ${c.detail}`)).join('<br>') || `${s.verdict.requests} requests, every check passed`}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baton chaos run ${escape(run.run)}: ${run.passed ? 'passed' : 'FAILED'}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1a1a1a; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
.passed { color: #1b5e20; font-weight: 600; }
.failed { color: #b71c1c; font-weight: 700; }
section { border-top: 2px solid #ddd; margin-top: 2rem; }
.legend span { display: inline-block; margin-right: 1rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
</style>
</head>
<body>
<h1>Chaos run ${escape(run.run)}: <span class="${run.passed ? 'passed' : 'failed'}">${run.passed ? 'every verdict passed' : 'a verdict FAILED'}</span></h1>
<p>Started ${escape(run.startedAt)}, ${run.short ? 'short windows (CI): 2 s before the fault, 4 s of it, 6 s after' : 'full windows: 5 s before the fault, 10 s of it, 15 s after'}.
Every figure comes from what the shoppers saw and what the shop recorded, never from logs.</p>
<table>
<thead><tr><th scope="col">scenario</th><th scope="col">verdict</th><th scope="col">what failed, if anything</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${run.scenarios.map(section).join('\n')}
</body>
</html>
`;
}

function section(s: ChaosRun['scenarios'][number]): string {
  if ('skipped' in s) return `<section id="${escape(s.scenario)}"><h2>${escape(s.title)}</h2><p>Skipped: ${escape(s.skipped)}</p></section>`;
  if ('error' in s) return `<section id="${escape(s.scenario)}"><h2>${escape(s.title)}</h2><p class="failed">It could not run: ${escape(s.error)}</p></section>`;
  const checks = s.verdict.checks.map((c) => `<tr><td>${escape(c.name)}</td><td class="${c.passed ? 'passed' : 'failed'}">${c.passed ? 'passed' : 'FAILED'}</td><td>${escape(c.detail)}</td></tr>`).join('\n');
  return `<section id="${escape(s.scenario)}">
<h2>${escape(s.title)}</h2>
<p><strong>The promise:</strong> ${escape(s.promise)}</p>
<table>
<thead><tr><th scope="col">check</th><th scope="col">verdict</th><th scope="col">what the data says</th></tr></thead>
<tbody>
${checks}
</tbody>
</table>
${amplification(s)}
${chart(s)}
</section>`;
}

/** Calls reaching the faulty service per shopper request, before the fault and from its start on. */
function amplification(s: ScenarioReport): string {
  const a = s.verdict.amplification;
  if (a === undefined) return '';
  const figure = (value: number | null) => (value === null ? 'unknown' : value.toFixed(2));
  return `<p><strong>Amplification:</strong> calls reaching ${escape(a.service)} per shopper request, ${figure(a.beforePerRequest)} before the fault and ${figure(a.duringPerRequest)} from its start on (retries add to the second).</p>`;
}

/** Requests a second, stacked by outcome, with the fault's window shaded (a kill, a thin band). */
function chart(s: ScenarioReport): string {
  const width = 720;
  const height = 180;
  const left = 36;
  const bottom = 20;
  const seconds = Math.max(1, s.verdict.timeline.length);
  const most = Math.max(1, ...s.verdict.timeline.map((second) => outcomes.reduce((sum, o) => sum + second.counts[o], 0)));
  const x = (atS: number) => left + (atS / seconds) * (width - left);
  const barWidth = Math.max(1, (width - left) / seconds - 1);
  const y = (count: number) => ((height - bottom) * count) / most;
  const faultEndS = Math.max(s.faultEndMs, s.faultStartMs + 300) / 1_000;
  const bars = s.verdict.timeline.map((second) => {
    let stacked = 0;
    return outcomes.filter((o) => second.counts[o] > 0).map((o) => {
      const h = y(second.counts[o]);
      stacked += h;
      return `<rect x="${x(second.at).toFixed(1)}" y="${(height - bottom - stacked).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${colours[o]}"><title>second ${second.at}: ${second.counts[o]} ${o}</title></rect>`;
    }).join('');
  }).join('\n');
  const ticks = Array.from({ length: Math.floor(seconds / 5) + 1 }, (_, i) => i * 5)
    .map((atS) => `<text x="${x(atS).toFixed(1)}" y="${height - 5}" font-size="10">${atS} s</text>`).join('');
  const counts = outcomes.map((o) => `${s.verdict.byOutcome[o]} ${o}`).join(', ');
  return `<figure>
<svg role="img" viewBox="0 0 ${width} ${height}" width="100%" aria-labelledby="${escape(s.scenario)}-chart">
<title id="${escape(s.scenario)}-chart">Requests each second by outcome (${counts}); the fault from ${(s.faultStartMs / 1_000).toFixed(1)} s to ${(s.faultEndMs / 1_000).toFixed(1)} s is shaded</title>
<rect x="${x(s.faultStartMs / 1_000).toFixed(1)}" y="0" width="${(x(faultEndS) - x(s.faultStartMs / 1_000)).toFixed(1)}" height="${height - bottom}" fill="#fbc02d" opacity="0.3"/>
<text x="2" y="10" font-size="10">${most}/s</text>
${bars}
${ticks}
</svg>
<figcaption class="legend">${outcomes.map((o) => `<span><i style="background:${colours[o]}"></i>${o}</span>`).join('')}<span><i style="background:#fbc02d;opacity:.3"></i>the fault</span></figcaption>
</figure>`;
}
