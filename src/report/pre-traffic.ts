/**
 * The pre-traffic evaluation (`evaluation:` in the plan, src/evaluation/) as the report shows
 * it: both versions' figures side by side, every check, every prompt (./pre-traffic-prompts.ts) and
 * the worst prompts with both answers.
 * Reads the `prompt_eval_*` records; a run without them has no such section.
 */
import { formatDuration } from '../format.js';
import { escapeHtml } from './escape.js';
import { arr, num, obj, pick, type Raw, str } from './fields.js';
import { perPromptTable } from './pre-traffic-prompts.js';
import { formatValue, type Unit } from './units.js';

const STATS: [key: string, label: string, unit: Unit][] = [
  ['requests', 'Requests', 'number'],
  ['success_rate', 'Answered', 'rate'],
  ['expectation_pass_rate', 'Met expectations', 'rate'],
  ['latency_p50_ms', 'Latency p50', 'ms'],
  ['latency_p99_ms', 'Latency p99', 'ms'],
  ['ttft_p50_ms', 'Time to first token p50', 'ms'],
  ['output_tokens', 'Output tokens', 'number'],
  ['cost_per_answer', 'Cost per answer', 'cost'],
  ['agreement', 'Agreement with baseline', 'rate'],
  ['judge_score', 'Judge score', 'number'],
];

function unitOfCheck(metric: string): Unit {
  if (metric.endsWith('_ms')) return 'ms';
  if (metric.startsWith('cost')) return 'cost';
  if (metric.endsWith('_rate') || metric === 'agreement') return 'rate';
  return 'number';
}

export function preTrafficSection(records: Raw[]): string {
  if (records.length === 0) return '';
  const skipped = records.find((r) => r.type === 'prompt_eval_skipped');
  const finished = records.find((r) => r.type === 'prompt_eval_finished');
  const head = '<section id="pre-traffic"><h2>Pre-traffic evaluation</h2>';
  if (!finished) {
    const why = skipped
      ? `Skipped (${escapeHtml(str(pick(skipped, 'reason')) ?? '')}): ${escapeHtml(str(pick(skipped, 'detail')) ?? '')}`
      : 'Started, but no result was recorded (the run stopped during it).';
    return `${head}<p>${why}</p></section>`;
  }
  const report = obj(pick(finished, 'report'));
  const verdict = str(pick(report, 'verdict')) ?? 'unknown';
  const base = obj(pick(report, 'baseline'));
  const can = obj(pick(report, 'canary'));
  const stats = STATS.filter(([key]) => pick(base, key) !== undefined || pick(can, key) !== undefined)
    .map(([key, label, unit]) => {
      const cell = (o: Raw) =>
        escapeHtml(pick(o, key) === undefined ? '—' : formatValue(unit, num(pick(o, key))));
      return `<tr><th scope="row">${escapeHtml(label)}</th><td>${cell(base)}</td><td>${cell(can)}</td></tr>`;
    })
    .join('\n');
  const checks = arr(pick(report, 'checks'))
    .map(obj)
    .map((c) => {
      const unit = unitOfCheck(str(pick(c, 'metric')) ?? '');
      const status = str(pick(c, 'status')) ?? '?';
      return `<tr class="verdict-${escapeHtml(status)}"><td><code>${escapeHtml(str(pick(c, 'id')) ?? '')}</code></td><td>${escapeHtml(formatValue(unit, num(pick(c, 'value'))))}</td><td>${escapeHtml(formatValue(unit, num(pick(c, 'baseline'))))}</td><td>${escapeHtml(formatValue(unit, num(pick(c, 'bound'))))}</td><td>${escapeHtml(status.replace(/_/g, ' '))}</td><td>${escapeHtml(str(pick(c, 'reason')) ?? '')}</td></tr>`;
    })
    .join('\n');
  const worst = arr(pick(report, 'worst'))
    .map(obj)
    .map((w) => {
      const where = `${str(pick(w, 'prompt_id')) ?? '?'} (line ${num(pick(w, 'line')) ?? '?'}, repeat ${(num(pick(w, 'repeat')) ?? 0) + 1})`;
      return `<div class="worst"><h4><code>${escapeHtml(where)}</code> <span class="muted">${escapeHtml(str(pick(w, 'why')) ?? '')}</span></h4>
<pre class="prompt">${escapeHtml(str(pick(w, 'prompt')) ?? '')}</pre>
<div class="side-by-side"><div><strong>baseline ${escapeHtml(str(pick(base, 'version_tag')) ?? '')}</strong><pre>${escapeHtml(str(pick(w, 'baseline')) ?? '')}</pre></div><div><strong>canary ${escapeHtml(str(pick(can, 'version_tag')) ?? '')}</strong><pre>${escapeHtml(str(pick(w, 'canary')) ?? '')}</pre></div></div></div>`;
    })
    .join('\n');
  const n = num(pick(report, 'prompts'));
  const repeat = num(pick(report, 'repeat'));
  return `${head}
<p><span class="badge ${verdict === 'pass' ? 'good' : 'bad'}">${escapeHtml(verdict)}</span> ${escapeHtml(str(pick(report, 'summary')) ?? '')} <span class="muted">(${n ?? '?'} prompts × ${repeat ?? '?'}, ${formatDuration(num(pick(report, 'duration_ms')) ?? 0)})</span></p>
<table class="grid"><thead><tr><th></th><th>baseline</th><th>canary</th></tr></thead><tbody>
${stats}
</tbody></table>
<h3>Checks</h3>
<table class="grid"><thead><tr><th>Check</th><th>Canary</th><th>Baseline</th><th>Bound</th><th>Verdict</th><th>Why</th></tr></thead><tbody>
${checks}
</tbody></table>
${perPromptTable(report)}
${worst ? `<h3>Worst prompts, side by side</h3>\n${worst}` : ''}
</section>`;
}
