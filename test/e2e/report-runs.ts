/**
 * Real rollouts for the report tests: the built CLI, spawned, against an emulator on loopback,
 * each writing `--report`, `--output-file` and its journal. Shared by test/e2e/report.test.ts
 * (content) and test/e2e/report-browser.test.ts (Chromium).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import {
  BASELINE,
  baseEnv,
  CANARY,
  patchRoute,
  planYaml,
  ROOT,
  type RunResult,
  reliabilityPlanSpec,
  runCli,
} from '../helpers/index.js';

export const REPORT_KEY = 'e2e-report-key-5d1c9a77f3';
export const ABORT_REASON = 'answers look wrong to support';
export { BASELINE, CANARY };

export type RunKind = 'promoted' | 'rolled_back' | 'drift' | 'operator_abort' | 'shared_incident';

export interface ReportRun {
  kind: RunKind;
  dir: string;
  route: string;
  result: RunResult;
  /** The page `rollout --report` wrote. */
  html: string;
  reportFile: string;
  outputFile: string;
  stateDir: string;
}

const SCENARIOS: Record<RunKind, string> = {
  promoted: `${ROOT}/examples/scenarios/healthy.yaml`,
  drift: `${ROOT}/examples/scenarios/healthy.yaml`,
  operator_abort: `${ROOT}/examples/scenarios/healthy.yaml`,
  rolled_back: `${ROOT}/examples/scenarios/failing.yaml`,
  shared_incident: '',
};

/** Both versions fail together from 1 s on: an upstream incident, not the canary's fault. */
const SHARED_INCIDENT = `rps: 2000
default: { error_rate: 0.004, latency_p50_ms: 400, latency_p99_ms: 1800, cost_per_token: 0.000015 }
all_versions:
  changes:
    - when: { after: 1s }
      set: { error_rate: 0.2 }
`;

function plan(route: string): string {
  return planYaml(
    reliabilityPlanSpec(route, {
      analysis: {
        // As the quickstart: a p99 of fewer requests is mostly its largest sample (a false rollback).
        min_requests: 250,
        thresholds: { error_rate: { max: 0.05 }, latency_p99_ms: { max: 3000 } },
        baseline_comparison: { error_rate: { max_increase: 0.02 } },
      },
      more: {
        notify: [
          { url: 'http://127.0.0.1:9/services/T000/secret-webhook-token-77', events: ['rolled_back'] },
        ],
      },
    }),
  );
}

export async function reportRun(kind: RunKind): Promise<ReportRun> {
  const dir = mkdtempSync(path.join(tmpdir(), `canary-report-${kind}-`));
  let scenario = SCENARIOS[kind];
  if (kind === 'shared_incident') {
    scenario = path.join(dir, 'incident.yaml');
    writeFileSync(scenario, SHARED_INCIDENT);
  }
  const em: StartedEmulator = await startEmulator({
    port: 0,
    apiKey: REPORT_KEY,
    scenario,
    rps: 2000,
    seed: 11,
  });
  const route = `report-${kind.replace(/_/g, '-')}`;
  const file = path.join(dir, 'plan.yaml');
  writeFileSync(file, plan(route));
  const reportFile = path.join(dir, 'rollout-report.html');
  const outputFile = path.join(dir, 'events.ndjson');
  let acted = false;
  let aborted: Promise<RunResult> | undefined;
  const stateDir = path.join(dir, '.canary');
  try {
    const result = await runCli(
      [
        'rollout',
        file,
        '--relay-url',
        em.baseUrl,
        '--output',
        'plain',
        '--report',
        reportFile,
        '--output-file',
        outputFile,
        '--state-dir',
        stateDir,
      ],
      {
        env: baseEnv({ RELAY_API_KEY: REPORT_KEY }),
        cwd: dir,
        onStdout: (chunk) => {
          if (acted || !chunk.includes('[stage 2/3]')) return;
          acted = true;
          // `canary abort` from another shell, through the rollout's control channel.
          if (kind === 'operator_abort')
            aborted = runCli(['abort', '--route', route, '-m', ABORT_REASON, '--state-dir', stateDir], {
              env: baseEnv(),
              cwd: dir,
            });
          if (kind === 'drift') {
            void patchRoute(em, REPORT_KEY, route, [
              { version_tag: BASELINE, weight: 60 },
              { version_tag: CANARY, weight: 40 },
            ]);
          }
        },
      },
    );
    const abort = await aborted;
    if (abort && abort.code !== 0) throw new Error(`canary abort exited ${abort.code}: ${abort.stderr}`);
    return {
      kind,
      dir,
      route,
      result,
      html: readFileSync(reportFile, 'utf8'),
      reportFile,
      outputFile,
      stateDir,
    };
  } finally {
    await em.close();
  }
}

/** Every absolute URL in a page, less the XML namespaces SVG and ECharts name (never fetched). */
export function urlsIn(html: string): string[] {
  const namespaces = /^http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink|2000\/xmlns\/|XML\/1998\/namespace)$/;
  return [...html.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)\\]+/gi)]
    .map((m) => m[0])
    .filter((u) => !namespaces.test(u));
}
