/**
 * The per-version metrics table shared by the live view and `canary status`. Cells are coloured
 * against the bounds the analysis reported (never recomputed here), and columns are dropped,
 * least important first, until the table fits the terminal.
 */
import { stripVTControlCharacters } from 'node:util';
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { CheckResult } from '../analysis/types.js';
import type { JudgedMetric } from '../domain/metrics.js';
import type { VersionMetrics } from '../domain/relay.js';
import {
  formatCost,
  formatCount,
  formatMs,
  formatRate,
  formatWeight,
  NO_VALUE,
  truncate,
} from '../format.js';

export interface VersionRow {
  tag: string;
  /** `baseline` / `canary`, shown after the tag when known. */
  role?: string;
  weight: number | null;
  metrics: VersionMetrics | null;
  /** Bounds to colour this row's metric cells against (smallest bound per metric). */
  bounds?: Partial<Record<JudgedMetric, number>>;
  /** Colour the request count yellow below this (the canary's min_requests). */
  minRequests?: number;
}

type ColumnId = 'version' | 'weight' | 'requests' | 'errors' | 'error_rate' | 'p50' | 'p99' | 'cost';

interface Column {
  id: ColumnId;
  head: string;
  cell(row: VersionRow, chalk: ChalkInstance): string;
}

/** How close to a limit counts as "near it" (yellow): within 10 % below the bound. */
const NEAR_LIMIT = 0.9;

function judged(
  chalk: ChalkInstance,
  value: number | null | undefined,
  text: string,
  bound: number | undefined,
): string {
  if (value == null || !Number.isFinite(value)) return chalk.dim(NO_VALUE);
  if (bound === undefined) return text;
  if (value > bound) return chalk.red(text);
  if (value >= bound * NEAR_LIMIT) return chalk.yellow(text);
  return chalk.green(text);
}

function metricCell(metric: JudgedMetric, format: (v: number | null | undefined) => string): Column['cell'] {
  const field: keyof VersionMetrics = metric;
  return (row, chalk) => {
    const raw = row.metrics?.[field];
    const value = typeof raw === 'number' ? raw : null;
    return judged(chalk, value, format(value), row.bounds?.[metric]);
  };
}

const COLUMNS: Column[] = [
  { id: 'version', head: 'version', cell: (row) => row.tag },
  { id: 'weight', head: 'weight', cell: (row) => formatWeight(row.weight) },
  {
    id: 'requests',
    head: 'requests',
    cell: (row, chalk) => {
      const n = row.metrics?.request_count;
      if (n == null) return chalk.dim(NO_VALUE);
      const text = formatCount(n);
      return row.minRequests !== undefined && n < row.minRequests ? chalk.yellow(text) : text;
    },
  },
  {
    id: 'errors',
    head: 'errors',
    cell: (row, chalk) => {
      const n = row.metrics?.error_count;
      return n == null ? chalk.dim(NO_VALUE) : formatCount(n);
    },
  },
  { id: 'error_rate', head: 'error rate', cell: metricCell('error_rate', formatRate) },
  { id: 'p50', head: 'p50', cell: metricCell('latency_p50_ms', formatMs) },
  { id: 'p99', head: 'p99', cell: metricCell('latency_p99_ms', formatMs) },
  { id: 'cost', head: 'cost/token', cell: metricCell('cost_per_token', formatCost) },
];

/** Column sets tried in order until one fits; the last resort is the compact list below. */
const LAYOUTS: ColumnId[][] = [
  ['version', 'weight', 'requests', 'errors', 'error_rate', 'p50', 'p99', 'cost'],
  ['version', 'weight', 'requests', 'error_rate', 'p50', 'p99', 'cost'],
  ['version', 'weight', 'requests', 'error_rate', 'p99', 'cost'],
  ['version', 'weight', 'requests', 'error_rate', 'p99'],
  ['version', 'weight', 'error_rate', 'p99'],
];

export function visibleWidth(text: string): number {
  // Every escape sequence starts with ESC or CSI: without either there is nothing to strip, and
  // Node's pattern for them (compiled on first use) costs `canary status` more than its table.
  const plain = text.includes('\u001b') || text.includes('\u009b') ? stripVTControlCharacters(text) : text;
  let max = 0;
  for (const line of plain.split('\n')) max = Math.max(max, [...line].length);
  return max;
}

interface Labelling {
  role: boolean;
  maxTag: number;
}

/** Keeps both ends of a long tag: versions of one model differ at the end (`…-4-5-v1`, `…-v2`). */
function truncateMiddle(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const tail = Math.ceil((max - 1) / 2);
  return `${chars.slice(0, max - 1 - tail).join('')}…${chars.slice(chars.length - tail).join('')}`;
}

function label(row: VersionRow, labelling: Labelling): string {
  const tag = truncateMiddle(row.tag, labelling.maxTag);
  return labelling.role && row.role ? `${tag} (${row.role})` : tag;
}

function renderTable(
  rows: VersionRow[],
  ids: ColumnId[],
  chalk: ChalkInstance,
  labelling: Labelling,
): string {
  const columns = ids.map((id) => COLUMNS.find((c) => c.id === id) as Column);
  const table = new Table({
    head: columns.map((c) => chalk.bold(c.head)),
    // cli-table3 colours heads red and borders grey by default, guessing the terminal; colour is ours to decide.
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1, compact: true },
    colAligns: columns.map((c) => (c.id === 'version' ? 'left' : 'right')),
  });
  for (const row of rows) {
    table.push(columns.map((c) => (c.id === 'version' ? label(row, labelling) : c.cell(row, chalk))));
  }
  return table.toString();
}

/** Without room for a table: one line per version, the decisive figures only. */
function renderCompact(rows: VersionRow[], chalk: ChalkInstance, width: number): string {
  return rows
    .map((row) => {
      const rate = COLUMNS.find((c) => c.id === 'error_rate') as Column;
      const p99 = COLUMNS.find((c) => c.id === 'p99') as Column;
      const line = `${label(row, { role: true, maxTag: 16 })} ${formatWeight(row.weight)} · err ${rate.cell(row, chalk)} · p99 ${p99.cell(row, chalk)}`;
      return visibleWidth(line) > width ? truncate(stripVTControlCharacters(line), width) : line;
    })
    .join('\n');
}

export function renderVersionTable(
  rows: VersionRow[],
  options: { chalk: ChalkInstance; width: number },
): string {
  const { chalk, width } = options;
  // The role suffix always stays: without it the two rows cannot be told apart. A long tag is
  // shortened in the middle first, then columns go, then the compact list (which keeps roles).
  const labellings: Labelling[] = [
    { role: true, maxTag: 40 },
    { role: true, maxTag: 24 },
    { role: true, maxTag: 16 },
    { role: true, maxTag: 12 },
  ];
  for (const layout of LAYOUTS) {
    for (const labelling of labellings) {
      const text = renderTable(rows, layout, chalk, labelling);
      if (visibleWidth(text) <= width) return text;
    }
  }
  return renderCompact(rows, chalk, width);
}

/**
 * The tightest bound per metric from an evaluation's checks. The baseline is only held to
 * absolute thresholds: a bound derived from the baseline says nothing about the baseline.
 */
export function boundsFromChecks(
  checks: readonly CheckResult[],
  kinds: ReadonlyArray<CheckResult['kind']> = ['threshold', 'comparison'],
): Partial<Record<JudgedMetric, number>> {
  const bounds: Partial<Record<JudgedMetric, number>> = {};
  for (const check of checks) {
    if (!kinds.includes(check.kind) || check.bound == null || !Number.isFinite(check.bound)) continue;
    const current = bounds[check.metric];
    bounds[check.metric] = current === undefined ? check.bound : Math.min(current, check.bound);
  }
  return bounds;
}
