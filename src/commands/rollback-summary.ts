/**
 * `canary rollback` under GitHub Actions: a section of `$GITHUB_STEP_SUMMARY` saying what was
 * rolled back, by whom and why (`-m`), or that the rollback failed and how to restore by hand.
 * Loaded only when GITHUB_ACTIONS=true and the file is named, so an incident's
 * `canary rollback --route R --to TAG` anywhere else loads nothing more.
 */
import { appendFileSync } from 'node:fs';
import type { Io } from '../io.js';

/** What a finished `canary rollback` tells (./rollback-announce.ts): route, target, `-m`, outcome. */
export interface RollbackAnnouncement {
  route: string;
  to: string;
  /** `-m`. */
  reason: string | undefined;
  at: number;
  /** `before → after`, or that nothing had to change; absent when it failed. */
  traffic?: string | undefined;
  failure?: { message: string; exitCode: number; hint: string | undefined } | undefined;
  /** The plan file, for the plan form. */
  fromPlan?: string | undefined;
}

/** Inline Markdown: no pipes or newlines that would break it, no backticks that would close code. */
function md(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

export function rollbackSummary(a: RollbackAnnouncement, env: Record<string, string | undefined>): string {
  const actor = env.GITHUB_ACTOR ? `@${env.GITHUB_ACTOR}` : null;
  const lines: string[] = [];
  if (a.failure) {
    lines.push(`## ❌ canary: rollback of ${code(a.route)} to ${code(a.to)} failed`, '');
    lines.push(`- **Error:** ${md(a.failure.message)} (exit ${a.failure.exitCode})`);
  } else {
    lines.push(`## ⏪ canary: ${code(a.route)} rolled back to ${code(a.to)}`, '');
    lines.push(`- **Traffic:** ${md(a.traffic ?? '')}`);
  }
  lines.push(
    `- **Reason:** ${a.reason ? md(a.reason) : 'none given (`canary rollback -m WHY` records one)'}`,
  );
  lines.push(
    `- **By:** ${actor ?? 'canary rollback'}${a.fromPlan ? ` with the plan ${code(a.fromPlan)}` : ''}`,
  );
  lines.push('');
  if (a.failure?.hint) lines.push('```', a.failure.hint.replace(/```/g, "'''"), '```', '');
  return `${lines.join('\n')}\n`;
}

/** Appends the section; a summary that cannot be written is a warning, never another exit code. */
export function appendRollbackSummary(file: string, a: RollbackAnnouncement, io: Io): void {
  try {
    appendFileSync(file, io.redact(rollbackSummary(a, io.env)), 'utf8');
  } catch (error) {
    io.stderr.write(
      `warning: could not append the step summary to $GITHUB_STEP_SUMMARY: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
}
