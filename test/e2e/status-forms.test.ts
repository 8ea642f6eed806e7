/**
 * `canary status` comes in two bundles (LIGHT_FORMS in scripts/build-checks.mjs): with only
 * flags (`--route R`), bin/canary.cjs runs dist/status-route.cjs, which has no plan loader and so
 * no YAML parser; with a plan file, dist/status.cjs. Should the shim ever take a plan file for a
 * flag's value, `status plan.yaml` would reach the missing loader and fail: every command line
 * here that names a plan must still read it, whatever the flags around it.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedEmulator, startEmulator } from '../../src/emulator/index.js';
import { BASELINE, baseEnv, CANARY, planInTempDir, ROOT, runCli, seedRoute } from '../helpers/index.js';

const KEY = 'status-forms-key-41c9';
const ROUTE = 'status-forms-route';

let emulator: StartedEmulator;
let dir: string;
let plan: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, apiKey: KEY, rps: 50, seed: 11 });
  await seedRoute(emulator, KEY, ROUTE, [
    { version_tag: BASELINE, weight: 75 },
    { version_tag: CANARY, weight: 25 },
  ]);
  ({ dir, plan } = planInTempDir({ route: ROUTE, relayUrl: emulator.baseUrl }));
});

afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => baseEnv({ RELAY_API_KEY: KEY });

/** The route's weights as plain status prints them. */
const TRAFFIC = `traffic: ${BASELINE} 75%, ${CANARY} 25%`;

describe('status with flags alone runs without the plan machinery', () => {
  it('the route form carries no YAML parser or plan loader, and shows the route', async () => {
    const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist', 'version.json'), 'utf8'));
    const form = meta.commands.status['flags-only'];
    expect(form.file).toBe('status-route.cjs');
    expect(form.valueFlags).toEqual(expect.arrayContaining(['--route', '--window', '-o', '--relay-url']));
    const bundle = readFileSync(path.join(ROOT, 'dist', form.file), 'utf8');
    expect(bundle).not.toContain('node_modules/yaml/');
    expect(bundle).toContain('dist/status-route.cjs has no src/plan/load.ts');

    for (const args of [
      ['--route', ROUTE, '--relay-url', emulator.baseUrl, '-o', 'plain'],
      [`--route=${ROUTE}`, `--relay-url=${emulator.baseUrl}`, '--output=plain', '--window=1m'],
    ]) {
      const run = await runCli(['status', ...args], { env: env() });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(TRAFFIC);
    }
  });

  it('-o json with --route gives the status record', async () => {
    const run = await runCli(['status', '-o', 'json', '--route', ROUTE, '--relay-url', emulator.baseUrl], {
      env: env(),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: 'status', route: { route_id: ROUTE } });
  });
});

describe('what the route form does not read goes to the whole status bundle, worded by commander', () => {
  // With a forwarding proxy configured bin/canary.cjs runs the full CLI (dist/cli.cjs) for status,
  // which is what a command line the fast entry hands on must read exactly like.
  const viaFullCli = (args: string[]) =>
    runCli(['status', ...args], { env: baseEnv({ RELAY_API_KEY: KEY, HTTPS_PROXY: 'http://127.0.0.1:9' }) });

  it.each([
    // (`--rout R` never reaches the route form: the shim takes R for a plan file.)
    ['a mistyped flag', ['--route', ROUTE, `--rout=${ROUTE}`], "error: unknown option '--rout="],
    ['an unknown flag', ['--route', ROUTE, '--bogus'], "error: unknown option '--bogus'"],
    ['a bad duration', ['--route', ROUTE, '--watch', '--interval', 'soon'], '--interval takes a duration'],
    ['a value outside its choices', ['--route', ROUTE, '-o', 'yaml'], "'yaml' is invalid"],
    ['help among other flags', ['--route', ROUTE, '--help'], 'Usage: canary status'],
  ])('%s', async (_, args, words) => {
    const flags = [...args, '--relay-url', emulator.baseUrl];
    const run = await runCli(['status', ...flags], { env: env() });
    const full = await viaFullCli(flags);
    expect(run.stdout + run.stderr).toContain(words);
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({
      code: full.code,
      stdout: full.stdout,
      stderr: full.stderr,
    });
  });
});

describe('status with a plan file reads the plan, wherever it stands among the flags', () => {
  it.each([
    ['alone', (p: string) => [p]],
    ['after a flag with a value', (p: string) => ['--window', '1m', p]],
    ['after a short flag with a value', (p: string) => ['-o', 'plain', p]],
    ['after --route', (p: string) => ['--route', ROUTE, p]],
    ['after a value attached with =', (p: string) => ['--window=1m', p]],
    ['after a flag without a value', (p: string) => ['--no-color', p]],
    ['after --', (p: string) => ['-o', 'plain', '--', p]],
  ])('%s', async (_, args) => {
    const run = await runCli(['status', ...args(plan)], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(TRAFFIC);
  });
});
