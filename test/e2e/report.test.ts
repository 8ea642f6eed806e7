/**
 * Reports from real runs (the built CLI against an emulator on loopback): what `rollout
 * --report` writes whatever the outcome, and what `canary report` makes of the journal, a run id,
 * a route and the --output-file, checked for content: every stage, every rollback reason, the
 * thresholds, no secret, no external URL.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromptRow } from '../../src/evaluation/types.js';
import { fromRecord, RECORD_VERSION } from '../../src/output/record.js';
import { escapeHtml } from '../../src/report/html.js';
import { formatValue } from '../../src/report/units.js';
import { type Browser, CHROMIUM, launchBrowser, pixels } from '../helpers/browser.js';
import { baseEnv, needsTool, ROOT, runCli } from '../helpers/index.js';
import {
  ABORT_REASON,
  BASELINE,
  CANARY,
  REPORT_KEY,
  type ReportRun,
  reportRun,
  urlsIn,
} from './report-runs.js';

const runs = new Map<string, ReportRun>();

beforeAll(async () => {
  // All at once: each run is seconds of waiting for its bakes (real time: these are real
  // processes), each on its own emulator, route and folder, so they do not wait for each other.
  const kinds = ['promoted', 'rolled_back', 'drift', 'operator_abort', 'shared_incident'] as const;
  const done = await Promise.all(kinds.map((kind) => reportRun(kind)));
  for (const run of done) runs.set(run.kind, run);
}, 180_000);

afterAll(() => runs.clear());

const get = (kind: string) => runs.get(kind) as ReportRun;
/** The bad-answers run's page (pre-traffic evaluation with its per-prompt table), for Chromium. */
let evaluationPage: string | undefined;

/** The JSON chart options embedded in a page, by chart id. */
function options(
  html: string,
): Record<string, { unit: string; option: { series: Record<string, unknown>[] } }> {
  const out: Record<string, { unit: string; option: { series: Record<string, unknown>[] } }> = {};
  for (const m of html.matchAll(/<script type="application\/json" id="([^"]+)-option">([^<]*)<\/script>/g)) {
    out[m[1] as string] = JSON.parse(m[2] as string);
  }
  return out;
}

/** The page without its last script (ECharts' runtime, whose own code names `src` and the like). */
function markup(html: string): string {
  const at = html.lastIndexOf('<script>');
  return at < 0 ? html : html.slice(0, at);
}

function expectSafe(html: string): void {
  // Booleans, not the page: a failure should not print 600 kB of HTML.
  expect(html.includes(REPORT_KEY), 'the API key is in the report').toBe(false);
  expect(html.includes('secret-webhook-token'), 'the webhook URL is in the report').toBe(false);
  // Only loopback addresses (the emulator) appear, as text: nothing to fetch, nothing outside.
  expect(urlsIn(html).filter((u) => !/^http:\/\/127\.0\.0\.1:\d+\//.test(u))).toEqual([]);
  expect(
    markup(html).match(/<(link|img|iframe|object|embed)\b|\b(src|href)=|@import|url\(\s*['"]?(?!#)/gi),
  ).toBeNull();
}

/** Whether the page has a piece of text (a boolean assertion, for short failure messages). */
function has(html: string, text: string | RegExp): boolean {
  return typeof text === 'string' ? html.includes(text) : text.test(html);
}

function expectStages(html: string, count: number): void {
  for (let i = 1; i <= count; i++)
    expect(has(html, `<td>${i}/${count}</td>`), String(`<td>${i}/${count}</td>`)).toBe(true);
}

describe('rollout --report, from real runs', () => {
  it('promoted: every stage passed, both judged metrics charted with their thresholds and comparison bound', () => {
    const run = get('promoted');
    expect(run.result.code, run.result.stderr).toBe(0);
    expect(run.result.stderr).toContain(`report: ${run.reportFile}`);
    const { html } = run;
    expect(
      has(html, '<span class="badge good">promoted</span>'),
      String('<span class="badge good">promoted</span>'),
    ).toBe(true);
    expectStages(html, 3);
    expect(html.match(/<tr class="stage-passed">/g)?.length).toBe(3);
    // The summary's final traffic, worded as the timeline words it: the canary holds it all.
    const traffic = /<th scope="row">Final traffic<\/th><td>([^<]*)<\/td>/.exec(html)?.[1];
    expect(traffic).toContain(`${CANARY} 100%`);
    expect(
      has(html, `${BASELINE} (baseline) → ${CANARY} (canary)`),
      String(`${BASELINE} (baseline) → ${CANARY} (canary)`),
    ).toBe(true);
    const charts = options(html);
    expect(Object.keys(charts).sort()).toEqual(['metric-error_rate', 'metric-latency_p99_ms', 'traffic']);
    const errorRate = charts['metric-error_rate']?.option.series ?? [];
    const lines = (errorRate[0]?.markLine as { data: { yAxis?: number }[] } | undefined)?.data ?? [];
    expect(lines.map((l) => l.yAxis)).toContain(0.05);
    expect(errorRate.map((s) => s.name)).toEqual(
      expect.arrayContaining([`canary ${CANARY}`, `baseline ${BASELINE}`, 'comparison bound', 'pass']),
    );
    // The server-drawn SVG carries the threshold label, for readers without scripts.
    expect(has(html, 'max 5%'), String('max 5%')).toBe(true);
    expect(has(html, 'max 3000ms'), String('max 3000ms')).toBe(true);
    // The plan as run, with the webhook URL replaced.
    expect(has(html, 'The plan as run'), String('The plan as run')).toBe(true);
    expect(has(html, '(secret: not recorded)'), String('(secret: not recorded)')).toBe(true);
    expectSafe(html);
  });

  it('rolled back: the failed stage, the reason, and the deciding metric marked', () => {
    const run = get('rolled_back');
    expect(run.result.code, run.result.stderr).toBe(3);
    const { html } = run;
    expect(
      has(html, '<span class="badge bad">rolled back</span>'),
      String('<span class="badge bad">rolled back</span>'),
    ).toBe(true);
    expectStages(html, 3);
    expect(has(html, '<tr class="stage-failed">'), String('<tr class="stage-failed">')).toBe(true);
    const journal = readFileSync(path.join(run.stateDir, `${run.route}.journal.ndjson`), 'utf8');
    const reason = JSON.parse(
      journal.split('\n').find((l) => l.includes('"rollback_started"')) as string,
    ).reason;
    expect(has(html, escapeHtml(reason)), String(escapeHtml(reason))).toBe(true);
    expect(has(html, /Rolled back at stage 2 \(health\)/), String(/Rolled back at stage 2 \(health\)/)).toBe(
      true,
    );
    expect(
      has(html, /<code>error_rate<\/code> <span class="badge bad">decided the rollback<\/span>/),
      String(/<code>error_rate<\/code> <span class="badge bad">decided the rollback<\/span>/),
    ).toBe(true);
    expect(options(html)['metric-error_rate']?.option.series.map((s) => s.name)).toContain('fail');
    expectSafe(html);
  });

  it("drift: the other client's change is on the timeline and the outcome says aborted", () => {
    const run = get('drift');
    expect(run.result.code, run.result.stderr).toBe(5);
    expect(
      has(run.html, 'drift: route changed by someone else'),
      String('drift: route changed by someone else'),
    ).toBe(true);
    expect(
      has(run.html, '<span class="badge bad">aborted</span>'),
      String('<span class="badge bad">aborted</span>'),
    ).toBe(true);
    expect(has(run.html, `${BASELINE} 60%, ${CANARY} 40%`), String(`${BASELINE} 60%, ${CANARY} 40%`)).toBe(
      true,
    );
    expectSafe(run.html);
  });

  it('operator abort (`canary abort -m` from another shell): rolled back, who and why on the timeline', () => {
    const run = get('operator_abort');
    expect(run.result.code, run.result.stderr).toBe(3);
    expect(has(run.html, /Rolled back at stage 2 \(operator\)/), 'rollback cause').toBe(true);
    expect(has(run.html, '<td>operator: abort</td>'), 'the request on the timeline').toBe(true);
    expect(has(run.html, `why: ${ABORT_REASON}`), 'the reason').toBe(true);
    expectSafe(run.html);
  });

  it("shared incident: both versions' error rates drawn as recorded, so the reader sees the baseline failing too", () => {
    const run = get('shared_incident');
    const series = options(run.html)['metric-error_rate']?.option.series ?? [];
    const drawn = (name: string) =>
      ((series.find((s) => s.name === name)?.data ?? []) as [number, number | null][]).map(([, v]) => v);
    const evaluations = readFileSync(run.outputFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'evaluation')
      .map((r) => r.evaluation);
    expect(evaluations.length).toBeGreaterThan(0);
    expect(drawn(`canary ${CANARY}`)).toEqual(evaluations.map((e) => e.canary?.error_rate ?? null));
    expect(drawn(`baseline ${BASELINE}`)).toEqual(evaluations.map((e) => e.baseline?.error_rate ?? null));
    expect(Math.max(...drawn(`baseline ${BASELINE}`).map((v) => v ?? 0))).toBeGreaterThan(0.01);
    expectSafe(run.html);
  });
});

describe('rollout --report with a pre-traffic evaluation', () => {
  it('examples/bad-answers.yaml: both versions side by side, the failed checks, the worst prompts with both answers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'canary-report-eval-'));
    const file = path.join(dir, 'eval.html');
    const result = await runCli(
      [
        'rollout',
        path.join(ROOT, 'examples/bad-answers.yaml'),
        '--output',
        'plain',
        '--report',
        file,
        '--state-dir',
        path.join(dir, '.canary'),
      ],
      { env: baseEnv(), cwd: dir },
    );
    expect(result.code, result.stderr).toBe(3);
    evaluationPage = file;
    const html = readFileSync(file, 'utf8');
    expect(has(html, '<h2>Pre-traffic evaluation</h2>')).toBe(true);
    expect(has(html, '<span class="badge bad">fail</span>')).toBe(true);
    expect(has(html, '<code>expectation_pass_rate.min</code>')).toBe(true);
    expect(has(html, '<h3>Worst prompts, side by side</h3>')).toBe(true);
    // The canary's refusal beside the baseline's answer.
    expect(has(html, escapeHtml("I'm sorry, but I can't help with that request."))).toBe(true);
    expect(has(html, 'pre-traffic evaluation: fail')).toBe(true);
    expectSafe(html);

    // Every prompt of the set, as the journal recorded it, is a row of the per-prompt table.
    const journal = readFileSync(path.join(dir, '.canary', 'code-review-bad-answers.journal.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const finished = journal.find((r) => r.type === 'prompt_eval_finished');
    expect(finished.version).toBe(RECORD_VERSION);
    const ids = readFileSync(path.join(ROOT, 'examples/prompts/code-review.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    const recorded = finished.report.per_prompt as PromptRow[];
    expect(recorded.map((r) => r.prompt_id)).toEqual(ids);
    expect(finished.report.per_prompt_left_out).toBe(0);
    expect(has(html, '<h3>Every prompt</h3>')).toBe(true);
    const rows = html
      .split('<tr class="prompt-row')
      .slice(1)
      .map((r) => r.slice(0, r.indexOf('</tr>')));
    expect(rows).toHaveLength(ids.length);
    const worse = (r: PromptRow) =>
      r.canary.answered < r.baseline.answered ||
      (r.canary.expect_checked ? r.canary.expect_met / r.canary.expect_checked : 1) <
        (r.baseline.expect_checked ? r.baseline.expect_met / r.baseline.expect_checked : 1);
    recorded.forEach((r, i) => {
      const row = rows[i] as string;
      expect(r.repeats).toBe(2);
      expect(row).toContain(`<code>${r.prompt_id}</code>`);
      expect(row).toContain(`code-review.jsonl:${r.line}`);
      for (const v of [r.baseline, r.canary]) {
        expect(row).toContain(`${v.answered}/2 answered`);
        expect(row).toContain(`${v.expect_met}/${v.expect_checked} met`);
        if (v.latency_ms !== null) expect(row).toContain(formatValue('ms', v.latency_ms));
        for (const f of v.failures ?? []) expect(row).toContain(escapeHtml(f));
      }
      expect(row).toContain(formatValue('rate', r.agreement));
      expect(row.startsWith(' prompt-worse"'), `row ${r.prompt_id}`).toBe(worse(r));
      expect(row.includes('canary worse'), `row ${r.prompt_id}`).toBe(worse(r));
    });
    // The canary broke expectations the baseline met: some rows say so, with the failure's words.
    expect(recorded.filter(worse).length).toBeGreaterThan(0);
    expect(recorded.some((r) => (r.canary.failures ?? []).length > 0)).toBe(true);

    // A journal written before version 3 has no per-prompt rows: the report says so. Such a
    // journal is in the code's own names (camelCase) with `v`, as fromRecord reads records back.
    const old = path.join(dir, 'old.journal.ndjson');
    writeFileSync(
      old,
      `${journal
        .map((line) => {
          const r = fromRecord<typeof line>(line);
          if (r.type !== 'prompt_eval_finished') return { ...r, v: 2 };
          const { per_prompt, per_prompt_left_out, ...report } = r.report;
          return { ...r, v: 2, report };
        })
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`,
    );
    const again = await runCli(['report', old, '-o', 'old.html'], { env: baseEnv(), cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/does not record the pre-traffic evaluation's per-prompt results/);
    const oldHtml = readFileSync(path.join(dir, 'old.html'), 'utf8');
    expect(has(oldHtml, 'the per-prompt results are in the journal from version 3 on')).toBe(true);
    expect(oldHtml.includes('<tr class="prompt-row')).toBe(false);
    expect(has(oldHtml, '<h3>Worst prompts, side by side</h3>')).toBe(true);
  });
});

describe('canary report', () => {
  it('reads the latest run, a run id, a route and the --output-file alike', async () => {
    const run = get('rolled_back');
    const env = baseEnv({ RELAY_API_KEY: REPORT_KEY });
    const latest = await runCli(['report', '--state-dir', run.stateDir, '-o', 'latest.html'], {
      env,
      cwd: run.dir,
    });
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toMatch(
      /^report: latest\.html \(route report-rolled-back, rolled_back, 3 stages, \d+ evaluations\)\n$/,
    );
    const history = await runCli(['history', '--state-dir', run.stateDir, '--output', 'json'], {
      env,
      cwd: run.dir,
    });
    const id = JSON.parse(history.stdout.trim().split('\n').pop() as string).run as string;
    const byId = await runCli(['report', id, '--state-dir', run.stateDir, '-o', 'by-id.html'], {
      env,
      cwd: run.dir,
    });
    const byRoute = await runCli(['report', run.route, '--state-dir', run.stateDir, '-o', 'by-route.html'], {
      env,
      cwd: run.dir,
    });
    const fromStream = await runCli(['report', run.outputFile, '-o', 'stream.html'], { env, cwd: run.dir });
    for (const r of [byId, byRoute, fromStream]) expect(r.code, r.stderr).toBe(0);
    const read = (name: string) => readFileSync(path.join(run.dir, name), 'utf8');
    expect(has(read('latest.html'), `Run id</th><td>${id}`)).toBe(true);
    for (const name of ['latest.html', 'by-id.html', 'by-route.html', 'stream.html']) {
      const html = read(name);
      expect(
        has(html, /Rolled back at stage 2 \(health\)/),
        String(/Rolled back at stage 2 \(health\)/),
      ).toBe(true);
      expect(Object.keys(options(html))).toEqual(['traffic', 'metric-error_rate', 'metric-latency_p99_ms']);
      expectSafe(html);
    }
    // The stream has no journal header: the report says what it cannot know.
    expect(fromStream.stderr).toBe('');
  });

  it('names what a version 1 journal lacks, and still draws what it has', async () => {
    const run = get('promoted');
    const file = path.join(run.stateDir, `${run.route}.journal.ndjson`);
    // A journal as canary wrote it before version 2: no plan, no run_by.
    const v1 = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => fromRecord<Record<string, unknown>>(JSON.parse(l)))
      .map((r) => {
        const { plan, run_by, ...rest } = r;
        return r.type === 'rollout_started' ? { ...rest, v: 1 } : { ...r, v: 1 };
      });
    const old = path.join(run.dir, 'old.journal.ndjson');
    writeFileSync(old, `${v1.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const result = await runCli(['report', old, '-o', 'old.html'], { env: baseEnv(), cwd: run.dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/note: \S*old\.journal\.ndjson does not record the plan as run/);
    const html = readFileSync(path.join(run.dir, 'old.html'), 'utf8');
    expect(
      has(html, 'This journal (version 1) does not record:'),
      String('This journal (version 1) does not record:'),
    ).toBe(true);
    expect(
      has(html, 'Not recorded by this journal version.'),
      String('Not recorded by this journal version.'),
    ).toBe(true);
    expect(Object.keys(options(html))).toEqual(['traffic', 'metric-error_rate', 'metric-latency_p99_ms']);
  });

  it('says what it accepts when RUN is nothing it knows, and exits 2', async () => {
    const run = get('promoted');
    const result = await runCli(['report', 'no-such-run', '--state-dir', run.stateDir], {
      env: baseEnv(),
      cwd: run.dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'no-such-run' is not a file, nor a run id or route in");
  });
});

needsTool({
  found: CHROMIUM !== undefined,
  tool: 'chromium',
  tests: 'the Chromium tests in test/e2e/report.test.ts',
  title: 'reports in Chromium',
});

describe.runIf(CHROMIUM !== undefined)('reports in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it.each(['promoted', 'rolled_back', 'drift', 'operator_abort', 'shared_incident'])(
    '%s: no console error, no request, every chart redrawn with pixels on it, hover shows values',
    async (kind) => {
      const run = get(kind);
      const { page, errors, requests } = await browser.open(run.reportFile);
      try {
        const charts = page.locator('.chart');
        const count = await charts.count();
        expect(count).toBeGreaterThanOrEqual(3);
        for (let i = 0; i < count; i++) {
          const chart = charts.nth(i);
          // ECharts marks the element it drew into: the browser redrew the server's SVG.
          expect(await chart.getAttribute('_echarts_instance_')).not.toBeNull();
          const shot = pixels(await chart.screenshot());
          expect(shot.drawn, `chart ${i} of ${kind} is blank`).toBeGreaterThan(0.02);
          expect(shot.has('#e8590c'), `chart ${i} of ${kind} has no canary line`).toBe(true);
        }
        // Hover over the error-rate chart: ECharts' tooltip names both versions with values.
        const errorRate = page.locator('#metric-error_rate .chart');
        const box = await errorRate.boundingBox();
        if (!box) throw new Error('no error-rate chart on the page');
        await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.5);
        const tooltip = errorRate.locator('div', { hasText: `baseline ${BASELINE}` }).last();
        await tooltip.waitFor({ state: 'visible', timeout: 5_000 });
        expect(await tooltip.innerText()).toMatch(/\d+(\.\d+)?%/);
        const page1 = pixels(await page.screenshot({ fullPage: true }));
        expect(page1.drawn).toBeGreaterThan(0.05);
        expect(errors).toEqual([]);
        expect(requests).toEqual([]);
      } finally {
        await page.close();
      }
    },
    60_000,
  );

  it('the pre-traffic evaluation page: the per-prompt table drawn, no console error, no request', async () => {
    if (!evaluationPage) throw new Error('the bad-answers run did not write its page');
    const { page, errors, requests } = await browser.open(evaluationPage, { width: 800 });
    try {
      const table = page.locator('table.per-prompt');
      expect(await table.locator('tbody tr').count()).toBe(8);
      // At 800 px the table scrolls inside its box instead of widening the page.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      expect(pixels(await table.screenshot()).drawn).toBeGreaterThan(0.02);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);

  it('dark mode: a dark page, charts still drawn and readable; print: a white page', async () => {
    const run = get('rolled_back');
    const { page, errors } = await browser.open(run.reportFile, { colorScheme: 'dark' });
    try {
      const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(bg).toBe('rgb(23, 23, 26)');
      const chart = pixels(await page.locator('#metric-error_rate .chart').screenshot());
      expect(chart.drawn).toBeGreaterThan(0.02);
      expect(chart.has('#e8590c')).toBe(true);
      await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
      expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe(
        'rgb(255, 255, 255)',
      );
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
