/**
 * GitHub Actions (`GITHUB_ACTIONS=true`): wraps the plain reporter with workflow commands —
 * a log group per stage, an `::error::` naming what failed — and on close appends a Markdown
 * summary (stages, each version's metrics, verdicts, outcome) to `$GITHUB_STEP_SUMMARY`.
 * It renders; it decides nothing.
 */
import { appendFile } from 'node:fs/promises';
import type { CheckResult, Evaluation } from '../analysis/types.js';
import { evaluationMarkdown } from '../evaluation/format.js';
import type { EvaluationReport } from '../evaluation/types.js';
import {
  formatCost,
  formatCount,
  formatDuration,
  formatMs,
  formatRate,
  formatRules,
  formatWeight,
} from '../format.js';
import type { OutStream } from '../io.js';
import { decidingMetricChart } from '../report/mermaid.js';
import type { Outcome, RolloutEvent, StageCheckResult } from '../rollout/events.js';
import { describeCheck } from './check-text.js';
import type { Reporter } from './reporter.js';

/** Escapes a workflow command's message (the runner decodes these). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command's property value (`title=`). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** `::add-mask::` for a secret; write it before the secret could appear anywhere. */
export function maskCommand(secret: string): string {
  return `::add-mask::${escapeData(secret)}\n`;
}

export function isGitHubActions(env: Record<string, string | undefined>): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/**
 * Whether `::add-mask::` may be written: it prints the secret itself, which is right only where
 * a GitHub runner reads the log and hides it. GITHUB_ACTIONS alone can be set anywhere (a copied
 * environment, a test); a runner also sets RUNNER_TEMP, and never gives a job a terminal.
 */
export function maySendMasks(env: Record<string, string | undefined>, outputIsTerminal: boolean): boolean {
  return isGitHubActions(env) && (env.RUNNER_TEMP?.trim() ?? '') !== '' && !outputIsTerminal;
}

interface StageRow {
  weight: number;
  bakeMs: number;
  status: 'not reached' | 'baking' | 'passed' | 'failed' | 'held' | 'interrupted';
  evaluation: Evaluation | null;
  checks: StageCheckResult[];
}

export interface GitHubReporterOptions {
  /** `$GITHUB_STEP_SUMMARY`; no summary when unset. */
  summaryFile?: string | undefined;
  /** Where write failures of the summary are reported (stderr). */
  warn?: ((text: string) => void) | undefined;
  /** Scrubs secrets from the summary, which bypasses the Io's streams. */
  redact?: ((text: string) => string) | undefined;
  /** `--report FILE`: named in the summary so it can be uploaded as an artifact. */
  reportFile?: string | undefined;
}

export class GitHubReporter implements Reporter {
  private groupOpen = false;
  private route = '';
  private baseline = '';
  private canary = '';
  private stages: StageRow[] = [];
  private current: number | null = null;
  private rollbackReason: string | null = null;
  private lastFailedChecks: CheckResult[] = [];
  private failedStageCheck: StageCheckResult | null = null;
  private finished: Extract<RolloutEvent, { type: 'rollout_finished' }> | null = null;
  /** The pre-traffic evaluation's report, or why it was skipped. */
  private promptEval: EvaluationReport | string | null = null;
  private closed = false;
  /** Every event, for the deciding metric's chart (src/report/mermaid.ts). */
  private readonly events: RolloutEvent[] = [];

  constructor(
    private readonly inner: Reporter,
    private readonly out: OutStream,
    private readonly options: GitHubReporterOptions = {},
  ) {}

  private write(text: string): void {
    try {
      this.out.write(text);
    } catch {
      // Never throw into the core.
    }
  }

  private endGroup(): void {
    if (!this.groupOpen) return;
    this.groupOpen = false;
    this.write('::endgroup::\n');
  }

  event(event: RolloutEvent): void {
    try {
      this.events.push(event);
      this.track(event);
      if (event.type === 'prompt_eval_started') {
        this.write('::group::Pre-traffic evaluation\n');
        this.groupOpen = true;
      }
      if (event.type === 'prompt_eval_finished') this.endGroup();
      if (event.type === 'stage_started') {
        this.endGroup();
        this.write(
          `::group::Stage ${event.stage + 1}/${event.stageCount} · canary ${formatWeight(event.weight)}${event.bakeMs > 0 ? ` · bake ${formatDuration(event.bakeMs)}` : ''}\n`,
        );
        this.groupOpen = true;
      }
      if (event.type === 'rollout_finished') this.endGroup();
    } catch {
      // A rendering problem must not reach the core.
    }
    this.inner.event(event);
    if (event.type === 'rollout_finished') {
      const error = this.errorLine(event);
      if (error) this.write(error);
    }
  }

  private track(event: RolloutEvent): void {
    switch (event.type) {
      case 'rollout_started':
        this.route = event.route;
        this.baseline = event.baseline;
        this.canary = event.canary;
        this.stages = event.stages.map((s, i) => ({
          weight: s.weight,
          bakeMs: s.bakeMs,
          status: i < event.startStage ? 'passed' : 'not reached',
          evaluation: null,
          checks: [],
        }));
        break;
      case 'stage_started': {
        this.current = event.stage;
        const row = this.stages[event.stage];
        if (row) row.status = 'baking';
        break;
      }
      case 'evaluation': {
        const row = this.stages[event.stage];
        if (row) row.evaluation = event.evaluation;
        const failed = event.evaluation.checks.filter((c) => c.status === 'fail');
        if (failed.length > 0) this.lastFailedChecks = failed;
        break;
      }
      case 'prompt_eval_finished':
        this.promptEval = event.report;
        if (event.report.verdict === 'fail')
          this.rollbackReason = `the pre-traffic evaluation failed: ${event.report.summary}`;
        break;
      case 'prompt_eval_skipped':
        this.promptEval = event.detail;
        break;
      case 'stage_check': {
        this.stages[event.stage]?.checks.push(event.check);
        if (event.check.status === 'fail') this.failedStageCheck = event.check;
        break;
      }
      case 'stage_passed': {
        const row = this.stages[event.stage];
        if (row) row.status = 'passed';
        break;
      }
      case 'rollback_started':
        this.rollbackReason = event.reason;
        if (this.stages[event.stage]) (this.stages[event.stage] as StageRow).status = 'failed';
        break;
      case 'rollout_finished': {
        this.finished = event;
        const row = this.current === null ? undefined : this.stages[this.current];
        if (row?.status === 'baking') row.status = event.outcome === 'held' ? 'held' : 'interrupted';
        break;
      }
      default:
        break;
    }
  }

  /** `::error::` naming what failed: the failing checks when health failed, else the summary. */
  private errorLine(event: Extract<RolloutEvent, { type: 'rollout_finished' }>): string | undefined {
    const bad: Outcome[] = ['rolled_back', 'rollback_failed', 'aborted', 'rejected'];
    if (!bad.includes(event.outcome) && !(event.outcome === 'interrupted' && this.rollbackReason))
      return undefined;
    const title =
      event.outcome === 'rolled_back'
        ? `canary rolled back ${this.route}`
        : event.outcome === 'rejected'
          ? `canary rejected before any traffic on ${this.route}`
          : event.outcome === 'rollback_failed'
            ? `canary rollback FAILED on ${this.route}`
            : event.outcome === 'interrupted'
              ? `canary interrupted on ${this.route}`
              : `canary aborted on ${this.route}`;
    let message = this.rollbackReason ?? event.summary;
    if (this.failedStageCheck && this.rollbackReason?.includes(`'${this.failedStageCheck.name}'`)) {
      message = `${this.rollbackReason}\n${this.failedStageCheck.output}`;
    } else if (this.rollbackReason && this.lastFailedChecks.length > 0) {
      message = `${this.rollbackReason}\n${this.lastFailedChecks.map((c) => describeCheck(c)).join('\n')}`;
    }
    if (event.outcome !== 'rolled_back')
      message = `${event.summary}\n${message === event.summary ? '' : message}`;
    if (event.next) message += `\nnext: ${event.next}`;
    return `::error title=${escapeProperty(title)}::${escapeData(message.trim())}\n`;
  }

  /** The step summary, in Markdown. */
  summary(): string {
    const f = this.finished;
    const icon = f?.outcome === 'promoted' ? '✅' : f?.outcome === 'held' ? '⏸️' : f === null ? '❔' : '❌';
    const lines: string[] = [];
    lines.push(`## ${icon} canary: \`${this.route}\` ${f ? f.outcome.replace('_', ' ') : 'did not finish'}`);
    lines.push('');
    lines.push(`\`${this.baseline}\` (baseline) → \`${this.canary}\` (canary)`);
    lines.push('');
    if (f) {
      lines.push(`**Outcome:** ${mdText(f.summary)} (exit ${f.exitCode})`);
      if (f.traffic) lines.push(`**Traffic:** ${mdText(formatRules(f.traffic))}`);
      if (f.next) lines.push(`**Next:** ${mdText(f.next)}`);
      lines.push('');
    }
    if (typeof this.promptEval === 'string')
      lines.push(`**Pre-traffic evaluation:** ${mdText(this.promptEval)}`, '');
    else if (this.promptEval) lines.push(evaluationMarkdown(this.promptEval));
    lines.push('| Stage | Canary weight | Bake | Verdict | Checks |');
    lines.push('|---|---|---|---|---|');
    this.stages.forEach((s, i) => {
      const verdict = s.evaluation ? ` (last evaluation: ${s.evaluation.verdict})` : '';
      const checks =
        s.checks.length === 0
          ? '—'
          : s.checks.map((c) => `${c.status === 'pass' ? '✅' : '❌'} ${mdText(c.name)}`).join(', ');
      lines.push(
        `| ${i + 1}/${this.stages.length} | ${formatWeight(s.weight)} | ${s.bakeMs > 0 ? formatDuration(s.bakeMs) : '—'} | ${s.status}${verdict} | ${checks} |`,
      );
    });
    lines.push('');
    const last = [...this.stages].reverse().find((s) => s.evaluation !== null)?.evaluation;
    if (last) {
      lines.push(
        `### Metrics (last evaluation, stage ${this.stages.findLastIndex((s) => s.evaluation === last) + 1})`,
      );
      lines.push('');
      lines.push('| Version | Requests | Error rate | p50 | p99 | Cost / token |');
      lines.push('|---|---|---|---|---|---|');
      for (const [role, m] of [
        ['canary', last.canary],
        ['baseline', last.baseline],
      ] as const) {
        if (!m) continue;
        lines.push(
          `| ${role} \`${m.version_tag}\` | ${formatCount(m.request_count)} | ${formatRate(m.error_rate)} | ${formatMs(m.latency_p50_ms)} | ${formatMs(m.latency_p99_ms)} | ${formatCost(m.cost_per_token)} |`,
        );
      }
      lines.push('');
      if (last.checks.length > 0 || (last.custom?.length ?? 0) > 0) {
        lines.push('| Check | Verdict | Why |');
        lines.push('|---|---|---|');
        for (const c of last.checks) lines.push(`| \`${c.id}\` | ${c.status} | ${mdText(c.reason)} |`);
        // analysis.metrics: a dry-run check is shown, and says it decides nothing.
        for (const c of last.custom ?? []) {
          lines.push(`| \`${c.id}\`${c.dry_run ? ' (dry run)' : ''} | ${c.status} | ${mdText(c.reason)} |`);
        }
        lines.push('');
      }
    }
    const chart = decidingMetricChart(this.events);
    if (chart) lines.push(chart);
    if (this.options.reportFile) {
      lines.push(
        `**Report:** \`${mdText(this.options.reportFile)}\`: timeline, a chart per judged metric and the plan as run, in one HTML file (upload it with \`actions/upload-artifact\`).`,
      );
      lines.push('');
    }
    if (this.failedStageCheck) {
      lines.push(`### Failed check \`${this.failedStageCheck.name}\``);
      lines.push('');
      lines.push('```');
      lines.push(this.failedStageCheck.output.replace(/```/g, "'''"));
      lines.push('```');
      lines.push('');
    }
    return `${lines.join('\n')}\n`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.endGroup();
    await this.inner.close();
    const file = this.options.summaryFile;
    if (!file || this.stages.length === 0) return;
    try {
      const text = this.summary();
      await appendFile(file, this.options.redact ? this.options.redact(text) : text, 'utf8');
    } catch (error) {
      this.options.warn?.(
        `could not append the step summary to $GITHUB_STEP_SUMMARY: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/** Table cells and inline text: no pipes or newlines that would break the Markdown. */
function mdText(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
