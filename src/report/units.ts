/**
 * How a chart's numbers read, by unit name. Chart options travel to the browser as JSON, which
 * cannot hold functions, so both the server-side render and the browser attach the same
 * formatters from this file by the unit named in the option.
 */
export type Unit = 'rate' | 'ms' | 'cost' | 'percent' | 'number';

export function unitOf(metric: string): Unit {
  if (metric === 'error_rate' || metric.endsWith('_rate')) return 'rate';
  if (metric.endsWith('_ms')) return 'ms';
  if (metric.startsWith('cost')) return 'cost';
  return 'number';
}

function trim(n: number, digits: number): string {
  return Number(n.toPrecision(digits)).toString();
}

export function formatValue(unit: Unit, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'no data';
  switch (unit) {
    case 'rate':
      return `${trim(value * 100, 3)}%`;
    case 'percent':
      return `${trim(value, 3)}%`;
    case 'ms':
      return `${value >= 100 ? Math.round(value) : trim(value, 3)}ms`;
    case 'cost':
      return `$${value.toExponential(2)}`;
    default:
      return trim(value, 4);
  }
}

/** Option shape shared by the server and the browser: the parts formatters attach to. */
interface FormattableOption {
  yAxis?: { axisLabel?: Record<string, unknown> };
  tooltip?: Record<string, unknown>;
}

/** Adds the axis and tooltip formatters for the option's unit (in place; returns it). */
export function withFormatters<T extends FormattableOption>(option: T, unit: Unit): T {
  const fmt = (v: unknown) => formatValue(unit, typeof v === 'number' ? v : null);
  if (option.yAxis) option.yAxis.axisLabel = { ...option.yAxis.axisLabel, formatter: fmt };
  if (option.tooltip) option.tooltip.valueFormatter = fmt;
  return option;
}
