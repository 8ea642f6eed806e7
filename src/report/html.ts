/**
 * The report page: one HTML file with its styles, charts (SVG) and script inline, no external
 * resource of any kind, readable on screen in light or dark mode and on paper.
 */
import { stringify } from 'yaml';
import { EXIT_CODE_MEANINGS } from '../errors.js';
import { formatDuration, formatTimestamp, formatWeight } from '../format.js';
import type { ChartSpec } from './charts.js';
import { escapeHtml } from './escape.js';
import { type ReportModel, rulesText, type StageView } from './model.js';
import { preTrafficSection } from './pre-traffic.js';
import { formatValue, unitOf } from './units.js';

export { escapeHtml };

/** JSON inside a <script> element: no `</script>` or `<!--` can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function iso(at: number | null): string {
  return at === null ? 'unknown' : formatTimestamp(at);
}

export function duration(ms: number | null): string {
  return ms === null || ms < 0 ? 'unknown' : formatDuration(ms);
}

const row = (name: string, value: string, raw = false) =>
  `<tr><th scope="row">${escapeHtml(name)}</th><td>${raw ? value : escapeHtml(value)}</td></tr>`;

function outcomeClass(outcome: string | null): string {
  if (outcome === 'promoted' || outcome === 'done') return 'good';
  if (outcome === 'held') return 'neutral';
  return 'bad';
}

function who(model: ReportModel): string {
  const by = model.runBy;
  if (!by) return 'not recorded';
  const parts: string[] = [];
  if (typeof by.user === 'string') parts.push(by.user);
  if (typeof by.host === 'string') parts.push(`on ${by.host}`);
  if (typeof by.pid === 'number') parts.push(`(pid ${by.pid})`);
  if (typeof by.ci === 'string') parts.push(`in ${by.ci}`);
  const gh = by.github as Record<string, string> | undefined;
  if (gh)
    parts.push(
      Object.entries(gh)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
  return parts.join(' ') || 'not recorded';
}

function header(model: ReportModel): string {
  const exit = model.exitCode;
  const meaning = exit !== null ? (EXIT_CODE_MEANINGS as Record<number, string>)[exit] : undefined;
  const blast = model.blast;
  const blastText = blast
    ? `≈ ${blast.canaryRequests.toLocaleString('en')} canary requests served, ≈ ${blast.canaryErrors.toLocaleString('en')} failed` +
      (blast.excessErrors === null
        ? ' (baseline error rate unknown)'
        : `, ≈ ${Math.max(0, blast.excessErrors).toLocaleString('en')} more than at the baseline's error rate`) +
      ' (estimated from the evaluation windows)'
    : 'unknown: no evaluation recorded canary traffic';
  return `<header>
<h1>canary report: <code>${escapeHtml(model.route)}</code> <span class="badge ${outcomeClass(model.outcome)}">${escapeHtml((model.outcome ?? 'no outcome recorded').replace(/_/g, ' '))}</span></h1>
<p class="summary">${escapeHtml(model.summary ?? '')}</p>
<table class="facts">
${row('Versions', `${model.baseline ?? '?'} (baseline) → ${model.canary ?? '?'} (canary)`)}
${row('Outcome', `${model.outcome ?? 'unknown'}; exit ${exit ?? 'unknown'}${meaning ? ` (${meaning})` : ''}`)}
${model.next ? row('Next', model.next) : ''}
${row('Started', iso(model.startedAt))}
${row('Ended', iso(model.endedAt))}
${row('Duration', duration(model.startedAt !== null && model.endedAt !== null ? model.endedAt - model.startedAt : null))}
${row('Run by', who(model))}
${row('Final traffic', rulesText(model.traffic))}
${row('Blast radius', blastText)}
${model.resumes ? row('Resumes run', model.resumes) : ''}
${row('Relay', model.relay ?? 'unknown')}
${row('Metrics from', model.metricsSource ?? 'unknown')}
${row('Run id', model.run ?? 'not in an event stream (the journal has it: `canary history`)')}
</table>
</header>`;
}

function lacks(model: ReportModel): string {
  if (model.lacks.length === 0) return '';
  const version =
    model.journalVersion === null ? 'This input' : `This journal (version ${model.journalVersion})`;
  return `<aside class="notice" role="note"><strong>${escapeHtml(version)} does not record:</strong><ul>${model.lacks
    .map((l) => `<li>${escapeHtml(l)}</li>`)
    .join('')}</ul></aside>`;
}

function stageStatus(s: StageView): string {
  return s.status === 'ended here' ? 'ended here' : s.status;
}

function stagesTable(model: ReportModel): string {
  if (model.stages.length === 0) return '<p>No stages recorded.</p>';
  const rowsHtml = model.stages
    .map((s) => {
      const checks =
        s.checks.map((c) => `${c.status === 'pass' ? '✓' : '✗'} ${escapeHtml(c.name)}`).join(', ') || '—';
      return `<tr class="stage-${s.status.replace(/ /g, '-')}"><td>${s.index + 1}/${model.stages.length}</td><td>${formatWeight(s.weight)}</td><td>${duration(s.bakeMs)}</td><td>${s.pause ? 'gate' : '—'}</td><td>${escapeHtml(iso(s.startedAt))}</td><td>${escapeHtml(iso(s.endedAt))}</td><td>${escapeHtml(stageStatus(s))}</td><td>${s.evaluations}</td><td>${checks}</td></tr>`;
    })
    .join('\n');
  return `<table class="grid"><thead><tr><th>Stage</th><th>Canary</th><th>Bake</th><th>Gate</th><th>Started</th><th>Ended</th><th>Status</th><th>Evaluations</th><th>Checks</th></tr></thead><tbody>
${rowsHtml}
</tbody></table>`;
}

function timelineTable(model: ReportModel): string {
  const start = model.startedAt ?? model.timeline[0]?.at ?? 0;
  const rowsHtml = model.timeline
    .map(
      (e) =>
        `<tr class="ev-${e.kind}"><td>${escapeHtml(iso(e.at))}</td><td>+${duration(e.at - start)}</td><td>${e.stage === null ? '' : e.stage + 1}</td><td>${escapeHtml(e.label)}</td><td>${escapeHtml(e.detail)}</td></tr>`,
    )
    .join('\n');
  return `<table class="grid timeline"><thead><tr><th>Time</th><th>Elapsed</th><th>Stage</th><th>Event</th><th>Detail</th></tr></thead><tbody>
${rowsHtml}
</tbody></table>`;
}

function chartFigure(spec: ChartSpec, svg: string): string {
  return `<figure class="chart-figure" id="${spec.id}">
<div class="chart" data-chart="${spec.id}" role="img" aria-label="${escapeHtml(spec.caption)}">${svg}</div>
<script type="application/json" id="${spec.id}-option">${scriptJson({ unit: spec.unit, option: spec.option })}</script>
<figcaption>${escapeHtml(spec.caption)}</figcaption>
</figure>`;
}

function metricSection(model: ReportModel, charts: { spec: ChartSpec; svg: string }[]): string {
  if (model.metrics.length === 0) return '<p>No evaluation recorded: nothing was judged.</p>';
  return model.metrics
    .map((view) => {
      const chart = charts.find((c) => c.spec.id === `metric-${view.metric.replace(/[^a-z0-9_-]/gi, '_')}`);
      const unit = unitOf(view.metric);
      const fmt = (v: number | null) => escapeHtml(formatValue(unit, v));
      const rowsHtml = view.checks
        .map(
          (c) =>
            `<tr class="verdict-${escapeHtml(c.status)}"><td>${escapeHtml(iso(c.at))}</td><td>${c.stage + 1}</td><td><code>${escapeHtml(c.id)}</code></td><td>${fmt(c.value)}</td><td>${c.kind === 'comparison' ? fmt(c.baseline) : ''}</td><td>${fmt(c.bound)}</td><td>${escapeHtml(c.status.replace(/_/g, ' '))}</td><td>${escapeHtml(c.reason)}</td></tr>`,
        )
        .join('\n');
      const deciding =
        model.rollback && model.decidingMetric === view.metric
          ? ' <span class="badge bad">decided the rollback</span>'
          : '';
      return `<section class="metric"><h3><code>${escapeHtml(view.metric)}</code>${deciding}</h3>
${chart ? chartFigure(chart.spec, chart.svg) : ''}
<details><summary>Every check of <code>${escapeHtml(view.metric)}</code> (${view.checks.length})</summary>
<table class="grid"><thead><tr><th>Time</th><th>Stage</th><th>Check</th><th>Canary</th><th>Baseline</th><th>Bound</th><th>Verdict</th><th>Why</th></tr></thead><tbody>
${rowsHtml}
</tbody></table></details></section>`;
    })
    .join('\n');
}

function planSection(model: ReportModel): string {
  const where = model.planFile
    ? `<p>${escapeHtml(model.planFile)}${model.planHash ? ` (sha256 ${escapeHtml(model.planHash)})` : ''}</p>`
    : '';
  if (!model.plan)
    return `<section><h2>The plan as run</h2>${where}<p>Not recorded by this ${model.journalVersion === null ? 'input' : 'journal version'}.</p></section>`;
  return `<section><h2>The plan as run</h2>${where}<p class="muted">Normalised (durations in ms, defaults filled in); webhook URLs and credentials are never recorded.</p><pre class="plan">${escapeHtml(stringify(model.plan, { lineWidth: 100 }))}</pre></section>`;
}

const STYLE = `:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#6b6b70;--line:#d8d8dc;--band:#f4f4f6;--good:#2b8a3e;--bad:#c92a2a;--neutral:#5c7cfa}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ea;--bg:#17171a;--muted:#a0a0a8;--line:#3a3a40;--band:#222227;--good:#69db7c;--bad:#ff8787;--neutral:#91a7ff}}
*{box-sizing:border-box}body{margin:0 auto;max-width:1100px;padding:24px;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{margin-top:2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{margin-bottom:.3rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:var(--band);padding:12px;overflow:auto;border-radius:6px;white-space:pre-wrap}
.badge{display:inline-block;font-size:.8rem;padding:2px 10px;border-radius:999px;border:1.5px solid currentColor;vertical-align:middle}
.good{color:var(--good)}.bad{color:var(--bad)}.neutral{color:var(--neutral)}.muted{color:var(--muted)}
.summary{font-size:1.05rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid var(--line)}
table.facts th{width:11rem;color:var(--muted);font-weight:600}
table.grid{font-size:.85rem}table.grid thead th{background:var(--band)}
.notice{border:1.5px solid var(--neutral);border-radius:6px;padding:8px 14px;margin:16px 0}
.rollback{border:2px solid var(--bad);border-radius:6px;padding:8px 14px;margin:16px 0}
.chart{width:100%;height:320px}.chart svg{max-width:100%;height:auto}
figure{margin:0}figcaption{color:var(--muted);font-size:.85rem}
tr.verdict-fail td,tr.stage-failed td,tr.ev-rollback td,tr.ev-drift td{color:var(--bad)}
details summary{cursor:pointer;color:var(--muted)}
.side-by-side{display:grid;grid-template-columns:1fr 1fr;gap:12px}.worst h4{margin:1rem 0 .3rem;font-weight:600}pre.prompt{border-left:3px solid var(--neutral)}
.table-scroll{overflow-x:auto}table.per-prompt th[scope=row]{white-space:nowrap}tr.prompt-worse th{border-left:3px solid var(--bad)}
footer{margin-top:3rem;color:var(--muted);font-size:.8rem}
@media print{:root{--fg:#000;--bg:#fff;--muted:#444;--line:#bbb;--band:#f2f2f2}body{max-width:none;padding:0}figure,.metric,table:not(.per-prompt){break-inside:avoid}details>*{display:block}}`;

export interface HtmlOptions {
  version: string;
  generatedAt: number;
  script: string;
}

export function reportHtml(
  model: ReportModel,
  charts: { spec: ChartSpec; svg: string }[],
  options: HtmlOptions,
): string {
  const traffic = charts.find((c) => c.spec.id === 'traffic');
  const rollback = model.rollback
    ? `<div class="rollback" role="alert"><strong>Rolled back at stage ${model.rollback.stage + 1} (${escapeHtml(model.rollback.cause)}):</strong> ${escapeHtml(model.rollback.reason)}${model.rollback.durationMs !== null ? ` <span class="muted">(baseline restored in ${model.rollback.durationMs} ms)</span>` : ''}</div>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>canary report: ${escapeHtml(model.route)} ${escapeHtml(model.outcome ?? '')}</title>
<style>${STYLE}</style>
</head>
<body>
${header(model)}
${lacks(model)}
${rollback}
<section><h2>Timeline</h2>
${traffic ? chartFigure(traffic.spec, traffic.svg) : ''}
${stagesTable(model)}
</section>
<section><h2>Metrics</h2>
<p class="muted">${model.evaluationCount} evaluation(s). Each chart: the canary and the baseline per evaluation, the threshold (solid red) and the comparison bound (dashed), stage bands, and each evaluation's verdict marked. Hover for exact values.</p>
${metricSection(model, charts)}
</section>
<section><h2>Every event (${model.timeline.length})</h2>${timelineTable(model)}</section>
${preTrafficSection(model.preTraffic)}
${planSection(model)}
<footer>Made by canary ${escapeHtml(options.version)} at ${escapeHtml(iso(options.generatedAt))} from ${escapeHtml(model.source)}. Self-contained: it loads nothing from the network.</footer>
<script>${options.script.replace(/<\/(script)/gi, '<\\/$1')}</script>
</body>
</html>
`;
}
