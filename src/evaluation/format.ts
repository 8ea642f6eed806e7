/**
 * The evaluation report for people: a table at a terminal (cli-table3), plain lines for CI logs
 * and a Markdown section for the GitHub step summary. The numbers come from the report as the
 * core computed them; nothing is judged here.
 */
import { relative } from 'node:path';
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { EvalMetric } from '../domain/plan.js';
import { formatDuration } from '../format.js';
import type { EvalCheck, EvaluationReport, VersionStats, WorstCase } from './types.js';
import { formatMetric } from './verdict.js';

const ROWS: { metric: EvalMetric; label: string }[] = [
  { metric: 'success_rate', label: 'success rate' },
  { metric: 'expectation_pass_rate', label: 'expectations met' },
  { metric: 'agreement', label: 'agreement with baseline' },
  { metric: 'judge_score', label: 'judge score' },
  { metric: 'latency_p50_ms', label: 'latency p50' },
  { metric: 'latency_p99_ms', label: 'latency p99' },
  { metric: 'ttft_p50_ms', label: 'first token p50' },
  { metric: 'ttft_p99_ms', label: 'first token p99' },
  { metric: 'output_tokens', label: 'output tokens / answer' },
  { metric: 'cost_per_answer', label: 'cost / answer' },
];

function value(stats: VersionStats, metric: EvalMetric): number | null {
  return (stats as unknown as Record<string, number | null | undefined>)[metric] ?? null;
}

function flat(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Rows worth showing: a metric either version has a value for, or one a check is about. */
function shownRows(report: EvaluationReport) {
  return ROWS.filter(
    ({ metric }) =>
      value(report.baseline, metric) !== null ||
      value(report.canary, metric) !== null ||
      report.checks.some((c) => c.metric === metric),
  );
}

function checksOf(report: EvaluationReport, metric: EvalMetric): EvalCheck[] {
  return report.checks.filter((c) => c.metric === metric);
}

function verdictWord(checks: EvalCheck[]): 'pass' | 'fail' | 'no data' | '' {
  if (checks.length === 0) return '';
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'no_data')) return 'no data';
  return 'pass';
}

function headline(report: EvaluationReport): string {
  const n = `${report.prompts} prompt${report.prompts === 1 ? '' : 's'}${report.repeat > 1 ? ` × ${report.repeat}` : ''}`;
  return `pre-traffic evaluation ${report.verdict === 'pass' ? 'passed' : 'FAILED'}: ${n}, ${report.requests_per_version} answers per version in ${formatDuration(report.duration_ms)}`;
}

/** The table for a terminal, worst prompts side by side below it when the evaluation failed. */
export function renderEvaluationTable(report: EvaluationReport, chalk: ChalkInstance, width: number): string {
  const table = new Table({
    head: ['', `baseline ${report.baseline.version_tag}`, `canary ${report.canary.version_tag}`, 'check'].map(
      (h) => chalk.bold(h),
    ),
    // Colour is ours to decide (cli-table3 guesses otherwise); compact: no line between rows.
    style: { head: [], border: [], compact: true },
  });
  for (const { metric, label } of shownRows(report)) {
    const checks = checksOf(report, metric);
    const word = verdictWord(checks);
    const paint =
      word === 'fail'
        ? chalk.red
        : word === 'pass'
          ? chalk.green
          : word === ''
            ? (s: string) => s
            : chalk.yellow;
    table.push([
      label,
      metric === 'agreement' || metric === 'judge_score'
        ? chalk.dim('—')
        : formatMetric(metric, value(report.baseline, metric)),
      paint(formatMetric(metric, value(report.canary, metric))),
      paint(checks.map((c) => `${c.rule} ${c.status === 'no_data' ? 'no data' : c.status}`).join(', ')),
    ]);
  }
  const lines = [
    report.verdict === 'pass' ? chalk.green(headline(report)) : chalk.red.bold(headline(report)),
    table.toString(),
  ];
  for (const c of report.checks.filter((c) => c.status !== 'pass')) lines.push(chalk.red(`✗ ${c.reason}`));
  if (report.verdict === 'fail' && report.worst.length > 0)
    lines.push('', renderWorstTable(report.worst, chalk, width));
  return lines.join('\n');
}

function renderWorstTable(worst: WorstCase[], chalk: ChalkInstance, width: number): string {
  const col = Math.max(20, Math.floor((Math.min(width, 160) - 7) / 2));
  const table = new Table({
    head: ['baseline answer', 'canary answer'],
    colWidths: [col, col],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const w of worst) {
    table.push([
      {
        colSpan: 2,
        content:
          chalk.bold(`${w.prompt_id} — ${flat(w.prompt, col * 2 - 10)}\n`) +
          chalk.yellow(flat(w.why, col * 2 - 4)),
      },
    ]);
    table.push([flat(w.baseline, 400), flat(w.canary, 400)]);
  }
  return `worst prompts, side by side:\n${table.toString()}`;
}

/** One line per fact, for CI logs (and the live view's log, which keeps the first few). */
export function evaluationLines(
  report: EvaluationReport,
): { text: string; tone: 'good' | 'bad' | 'normal' | 'warn' }[] {
  const out: { text: string; tone: 'good' | 'bad' | 'normal' | 'warn' }[] = [
    { text: headline(report), tone: report.verdict === 'pass' ? 'good' : 'bad' },
  ];
  for (const { metric, label } of shownRows(report)) {
    const checks = checksOf(report, metric);
    const word = verdictWord(checks);
    const base =
      metric === 'agreement' || metric === 'judge_score'
        ? ''
        : `baseline ${formatMetric(metric, value(report.baseline, metric))} · `;
    out.push({
      text: `${label}: ${base}canary ${formatMetric(metric, value(report.canary, metric))}${word ? ` · ${word}` : ''}`,
      tone: word === 'fail' ? 'bad' : word === 'no data' ? 'warn' : 'normal',
    });
  }
  for (const c of report.checks.filter((c) => c.status !== 'pass'))
    out.push({ text: `✗ ${c.reason}`, tone: 'bad' });
  if (report.verdict === 'fail') {
    report.worst.forEach((w, i) => {
      out.push({
        text: `worst ${i + 1}: ${w.prompt_id} (${shortPath(w.file)}:${w.line}): ${flat(w.why, 200)}`,
        tone: 'warn',
      });
      out.push({ text: `  prompt:   ${flat(w.prompt, 200)}`, tone: 'normal' });
      out.push({ text: `  baseline: ${flat(w.baseline, 200)}`, tone: 'normal' });
      out.push({ text: `  canary:   ${flat(w.canary, 200)}`, tone: 'normal' });
    });
  }
  return out;
}

/** A prompt file as a person finds it: relative to where canary runs, when that is shorter. */
function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}

function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The step summary's section. */
export function evaluationMarkdown(report: EvaluationReport): string {
  const lines = [`### ${report.verdict === 'pass' ? '✅' : '❌'} ${md(headline(report))}`, ''];
  lines.push(
    `| Metric | Baseline \`${report.baseline.version_tag}\` | Canary \`${report.canary.version_tag}\` | Check |`,
  );
  lines.push('|---|---|---|---|');
  for (const { metric, label } of shownRows(report)) {
    const checks = checksOf(report, metric);
    const b =
      metric === 'agreement' || metric === 'judge_score'
        ? '—'
        : formatMetric(metric, value(report.baseline, metric));
    lines.push(
      `| ${label} | ${b} | ${formatMetric(metric, value(report.canary, metric))} | ${checks.map((c) => `${c.status === 'pass' ? '✅' : c.status === 'fail' ? '❌' : '❔'} ${md(c.reason)}`).join('<br>') || '—'} |`,
    );
  }
  lines.push('');
  if (report.verdict === 'fail' && report.worst.length > 0) {
    lines.push('#### Worst prompts, side by side', '');
    lines.push('| Prompt | Baseline | Canary |', '|---|---|---|');
    for (const w of report.worst) {
      lines.push(
        `| **${md(w.prompt_id)}**: ${md(flat(w.prompt, 160))}<br>_${md(flat(w.why, 160))}_ | ${md(flat(w.baseline, 300))} | ${md(flat(w.canary, 300))} |`,
      );
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
