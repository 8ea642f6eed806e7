/**
 * action.yml, run the way a GitHub runner runs a composite action: inputs with their defaults,
 * `${{ }}` expressions evaluated into each step's env, each `shell: bash` step run as
 * `bash --noprofile --norc -eo pipefail`, with its own $GITHUB_OUTPUT file read back into
 * `steps.<id>.outputs`, and $GITHUB_STEP_SUMMARY. canary is installed by the action's own step
 * from the packed tarball (its `version` input takes a path), and talks to emulators on loopback.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type ExampleEmulators,
  packTarball,
  pipelinePlanSpec,
  ROOT,
  startExampleEmulators,
  writePlanFile,
} from '../helpers/index.js';

const KEY = 'action-e2e-key-4f1c9d2e7a';

interface ActionStep {
  id?: string;
  name?: string;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Action {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as Action;

interface ActionRun {
  outputs: Record<string, string>;
  /** Exit code of the first step that failed, or 0. */
  code: number;
  stdout: string;
  stderr: string;
  summary: string;
  /** The events file the outputs name, read before the runner's temp folder goes. */
  events: string;
}

/** `name=value` and `name<<DELIMITER` … `DELIMITER` lines, as the runner reads $GITHUB_OUTPUT. */
function readOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2] as string, i + 1);
      out[heredoc[1] as string] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

/** The expressions the action may use; anything else fails the test until this runner learns it. */
function evaluate(
  text: string,
  ctx: {
    inputs: Record<string, string>;
    steps: Record<string, Record<string, string>>;
    actionPath: string;
    temp: string;
  },
): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    let m = /^inputs\.([\w-]+)$/.exec(expr);
    if (m) return ctx.inputs[m[1] as string] ?? '';
    m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
    if (m) return ctx.steps[m[1] as string]?.[m[2] as string] ?? '';
    if (expr === 'github.action_path') return ctx.actionPath;
    if (expr === 'runner.temp') return ctx.temp;
    throw new Error(`action.yml uses \${{ ${expr} }}, which this test's runner does not evaluate`);
  });
}

function bash(
  script: string,
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { env, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function runAction(given: Record<string, string>, workspace: string): Promise<ActionRun> {
  for (const name of Object.keys(given)) expect(action.inputs, `input ${name}`).toHaveProperty(name);
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    const value = given[name] ?? spec.default ?? '';
    if (spec.required && value === '') throw new Error(`input ${name} is required`);
    inputs[name] = value;
  }
  const temp = mkdtempSync(join(tmpdir(), 'canary-runner-temp-'));
  const summary = join(temp, 'step-summary.md');
  writeFileSync(summary, '');
  const ctx = { inputs, steps: {} as Record<string, Record<string, string>>, actionPath: ROOT, temp };
  const run: ActionRun = { outputs: {}, code: 0, stdout: '', stderr: '', summary: '', events: '' };
  try {
    for (const [index, step] of action.runs.steps.entries()) {
      expect(step.shell, `step ${step.name}`).toBe('bash');
      const outputFile = join(temp, `output-${index}`);
      writeFileSync(outputFile, '');
      const env: Record<string, string> = {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: temp,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: workspace,
        GITHUB_ACTION_PATH: ROOT,
        GITHUB_RUN_ID: '1900',
        GITHUB_RUN_ATTEMPT: '1',
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summary,
        RUNNER_TEMP: temp,
      };
      for (const [name, value] of Object.entries(step.env ?? {})) env[name] = evaluate(String(value), ctx);
      if (/\$\{\{/.test(step.run ?? '')) fail(step);
      const result = await bash(step.run ?? '', env, workspace);
      run.stdout += result.stdout;
      run.stderr += result.stderr;
      if (step.id) ctx.steps[step.id] = readOutputFile(readFileSync(outputFile, 'utf8'));
      if (result.code !== 0) {
        run.code = result.code;
        break;
      }
    }
    for (const [name, spec] of Object.entries(action.outputs)) run.outputs[name] = evaluate(spec.value, ctx);
    run.summary = readFileSync(summary, 'utf8');
    const eventsFile = run.outputs['events-file'];
    run.events = eventsFile && existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8') : '';
    return run;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** A `run:` must not contain expressions: inputs reach the shell through env only (no injection). */
function fail(step: ActionStep): never {
  throw new Error(`step ${step.name}: \${{ }} inside run:, pass it through env: instead`);
}

let counter = 0;
function workspaceWithPlan(): { dir: string; plan: string; route: string } {
  const dir = mkdtempSync(join(tmpdir(), 'canary-workspace-'));
  const route = `action-route-${process.pid}-${++counter}`;
  // The action's relay-url input points the plan at an emulator.
  writePlanFile(join(dir, 'canary.yaml'), pipelinePlanSpec(route));
  return { dir, plan: 'canary.yaml', route };
}

describe('action.yml', () => {
  it('has the inputs and outputs the README documents, and runs on composite bash steps', () => {
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining([
        'plan',
        'until-stage',
        'approve-gates',
        'timeout',
        'on-timeout',
        'output-file',
        'relay-url',
        'version',
      ]),
    );
    expect(Object.keys(action.outputs)).toEqual(
      expect.arrayContaining(['outcome', 'exit-code', 'stage', 'traffic']),
    );
    expect(action.runs.using).toBe('composite');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const name of [...Object.keys(action.inputs), ...Object.keys(action.outputs)]) {
      expect(readme, `README documents ${name}`).toContain(`\`${name}\``);
    }
  });

  it('installs, by default, the version it was released with', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(action.inputs.version?.default).toBe(pkg.version);
  });
});

// Each run is its own workspace, runner temp folder and route: they run at once.
describe('action.yml, run like a runner runs it, against emulators', { concurrent: true }, () => {
  let emulators: ExampleEmulators;
  let tarball: string;
  let packDir: string;
  beforeAll(async () => {
    packDir = mkdtempSync(join(tmpdir(), 'canary-action-pack-'));
    [emulators, tarball] = await Promise.all([startExampleEmulators(KEY, 19), packTarball(packDir)]);
  }, 120_000);
  afterAll(async () => {
    await emulators?.close();
    rmSync(packDir, { recursive: true, force: true });
  });

  it('promotes a healthy canary, sets the outputs from the result, masks the key, writes the summary', async () => {
    const ws = workspaceWithPlan();
    const run = await runAction(
      { plan: ws.plan, 'relay-url': emulators.healthy.baseUrl, 'api-key': KEY, version: tarball },
      ws.dir,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.outputs).toMatchObject({ outcome: 'promoted', 'exit-code': '0', stage: '3' });
    expect(JSON.parse(run.outputs.traffic ?? '')).toContainEqual({
      version_tag: 'claude-sonnet-4-5-v2',
      weight: 100,
    });
    // The key appears once: in the mask command, which the runner consumes, before anything else.
    const all = run.stdout + run.stderr;
    expect(all.split(KEY).length - 1, all).toBe(run.stdout.split(`::add-mask::${KEY}`).length - 1);
    expect(run.stdout.indexOf(`::add-mask::${KEY}`)).toBeLessThan(run.stdout.indexOf('::group::'));
    expect(run.summary).toContain('promoted');
    const events = run.events.trim().split('\n');
    expect(JSON.parse(events.at(-1) ?? '{}')).toMatchObject({
      type: 'rollout_finished',
      outcome: 'promoted',
    });
    rmSync(ws.dir, { recursive: true, force: true });
  }, 60_000);

  it('holds at until-stage, and a later run with yes carries on from there (two jobs)', async () => {
    const ws = workspaceWithPlan();
    const common = {
      plan: ws.plan,
      'relay-url': emulators.healthy.baseUrl,
      'api-key': KEY,
      version: tarball,
    };
    const first = await runAction({ ...common, 'until-stage': '1', 'output-file': 'first.ndjson' }, ws.dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.outputs).toMatchObject({ outcome: 'held', 'exit-code': '0', stage: '1' });
    expect(JSON.parse(first.outputs.traffic ?? '')).toContainEqual({
      version_tag: 'claude-sonnet-4-5-v2',
      weight: 10,
    });
    expect(readFileSync(join(ws.dir, 'first.ndjson'), 'utf8')).toContain('"held"');
    const second = await runAction({ ...common, yes: 'true' }, ws.dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.outputs).toMatchObject({ outcome: 'promoted', 'exit-code': '0' });
    rmSync(ws.dir, { recursive: true, force: true });
  }, 90_000);

  it('fails the step on a rollback, with the outputs still set', async () => {
    const ws = workspaceWithPlan();
    const run = await runAction(
      { plan: ws.plan, 'relay-url': emulators.failing.baseUrl, 'api-key': KEY, version: tarball },
      ws.dir,
    );
    expect(run.code).toBe(3);
    expect(run.outputs).toMatchObject({ outcome: 'rolled_back', 'exit-code': '3' });
    expect(JSON.parse(run.outputs.traffic ?? '')).toContainEqual({
      version_tag: 'claude-sonnet-4-5-v1',
      weight: 100,
    });
    expect(run.stdout).toContain('::error');
    rmSync(ws.dir, { recursive: true, force: true });
  }, 60_000);

  it('says outcome none and exit-code 2 for a plan that does not exist', async () => {
    const ws = workspaceWithPlan();
    const run = await runAction({ plan: 'missing.yaml', version: tarball }, ws.dir);
    expect(run.code).toBe(2);
    expect(run.outputs).toMatchObject({ outcome: 'none', 'exit-code': '2', stage: '', traffic: 'null' });
    rmSync(ws.dir, { recursive: true, force: true });
  }, 60_000);
});
