/**
 * Renders a report and writes it: shared by `canary report` and `canary rollout --report`.
 * The renderer (and ECharts with it) is loaded here, on first use, from its own bundle.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Io } from '../io.js';
import { VERSION } from '../version.js';
import type { Raw } from './fields.js';
import type { ReportModel } from './model.js';

/** `canary-report-<route>-<run>.html`, safe as a file name. */
export function defaultReportName(route: string, run: string | null, at: number): string {
  const stamp =
    run ??
    new Date(at)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  return `canary-report-${`${route}-${stamp}`.replace(/[^A-Za-z0-9._-]/g, '_')}.html`;
}

/** Env var names the records say hold secrets: their values are redacted from the page as well. */
export function secretEnvNames(records: Raw[]): string[] {
  const names = new Set<string>(['RELAY_API_KEY']);
  for (const r of records) {
    if (typeof r.apiKeyEnv === 'string') names.add(r.apiKeyEnv);
    const plan = r.plan as
      | { relay?: { api_key_env?: unknown }; notify?: { url_env?: unknown }[] }
      | undefined;
    if (plan && typeof plan === 'object') {
      if (typeof plan.relay?.api_key_env === 'string') names.add(plan.relay.api_key_env);
      for (const n of Array.isArray(plan.notify) ? plan.notify : [])
        if (typeof n.url_env === 'string') names.add(n.url_env);
    }
  }
  return [...names];
}

export async function writeReport(
  records: Raw[],
  opts: { label: string; file: string; io: Io; now: number },
): Promise<ReportModel> {
  const { renderReport } = await import('./render.js');
  for (const name of secretEnvNames(records)) {
    const value = opts.io.env[name]?.trim();
    if (value) opts.io.addSecret(value);
  }
  const { html, model } = renderReport(records, opts.label, { version: VERSION, generatedAt: opts.now });
  const file = path.resolve(opts.io.cwd, opts.file);
  writeFileSync(file, opts.io.redact(html), { mode: 0o644 });
  return model;
}
