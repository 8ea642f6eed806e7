// CPU per evaluation of a real `canary rollout` process (bench/run.mjs, group `process`), and of
// the floor: bench/evaluation-floor.cjs making the same three calls per evaluation from a bare
// script. Both run as child processes against the same relay (an emulator in the bench's worker
// thread, so none of its CPU is counted), and each reports its own process.cpuUsage() at exit.
// CPU per evaluation is a slope: (CPU of a long run - CPU of a short one) / (their evaluations'
// difference), so start-up, registering versions and the final stage cancel out.
// With `steadyS`, a third, longer run gives the slope from the long run to it as well: what a
// look costs once the first hundred are past (until 3 December they included V8 optimising
// canary's code on its worker threads; a rollout against a relay now runs without TurboFan,
// src/rollout-tiering.ts, and the later slope shows what is left of any warm-up).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from 'simple-statistics';

const PRELOAD = `'use strict';
process.on('exit', () => {
  const u = process.cpuUsage();
  require('node:fs').writeFileSync(process.env.CPU_OUT, JSON.stringify({ us: u.user + u.system }));
});
`;

function run(file, args, env, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.slice(-600)}`));
      else resolve(stdout);
    });
  });
}

/**
 * @param {{ root: string, baseUrl: string, key: string, rounds: number, shortS: number, longS: number,
 *   intervalMs: number, modes: string[], steadyS?: number, steadyModes?: string[] }} o
 */
export async function rolloutCpu(o) {
  const dir = mkdtempSync(join(tmpdir(), 'canary-cpu-'));
  const preload = join(dir, 'cpu.cjs');
  writeFileSync(preload, PRELOAD);
  const port = new URL(o.baseUrl).port;
  const bin = join(o.root, 'bin', 'canary.cjs');
  const floor = join(o.root, 'bench', 'evaluation-floor.cjs');
  let n = 0;
  // Route names new to the relay on every bench run: an already promoted route has nothing to do.
  const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const measure = async (file, args, cwd) => {
    const out = join(dir, `cpu-${n++}.json`);
    const env = {
      ...process.env,
      RELAY_API_KEY: o.key,
      CI: 'true',
      NODE_OPTIONS: `--require ${preload}`,
      CPU_OUT: out,
    };
    delete env.NODE_EXTRA_CA_CERTS;
    const stdout = await run(file, args, env, cwd);
    return { stdout, cpuMs: JSON.parse(readFileSync(out, 'utf8')).us / 1000 };
  };
  const rollout = async (mode, seconds) => {
    const route = `cpu-${runId}-${n}`;
    const plan = join(dir, `${route}.yaml`);
    writeFileSync(
      plan,
      [
        `relay: { url: '${o.baseUrl}' }`,
        `route: ${route}`,
        'baseline: { version_tag: cpu-base, model: bench/model }',
        'canary: { version_tag: cpu-canary, model: bench/model }',
        'stages: [5, 100]',
        `bake: ${seconds}s`,
        'analysis:',
        `  interval: ${o.intervalMs}ms`,
        '  window: 1s',
        '  min_requests: 1',
        '  failure_limit: 100000',
        '  thresholds: { error_rate: { max: 0.9 } }',
        '',
      ].join('\n'),
    );
    // -o json counts its evaluations; the plain run's are the same schedule, counted from a json run.
    const { stdout, cpuMs } = await measure(
      bin,
      ['rollout', plan, '-o', mode, '--state-dir', join(dir, 'state')],
      dir,
    );
    const evaluations =
      mode === 'json'
        ? stdout.split('\n').filter((l) => l.includes('"type":"evaluation"')).length
        : stdout.split('\n').filter((l) => /\[check\]/.test(l)).length;
    return { cpuMs, evaluations };
  };
  const floorRun = async (evaluations) => {
    const { stdout, cpuMs } = await measure(
      floor,
      [port, 'bench-0', 'bench-v1', 'bench-v2', String(o.intervalMs), String(evaluations)],
      dir,
    );
    return { cpuMs, evaluations: JSON.parse(stdout.trim()).evaluations };
  };
  const steadyModes = o.steadyS === undefined ? [] : (o.steadyModes ?? o.modes);
  const names = [
    ...o.modes,
    'floor',
    ...steadyModes.map((m) => `${m} steady`),
    ...(steadyModes.length > 0 ? ['floor steady'] : []),
  ];
  const slopes = Object.fromEntries(names.map((m) => [m, []]));
  const counts = Object.fromEntries(names.map((m) => [m, []]));
  const slope = (name, a, b) => {
    slopes[name].push((b.cpuMs - a.cpuMs) / (b.evaluations - a.evaluations));
    counts[name].push(b.evaluations - a.evaluations);
  };
  const runs = (s) => Math.round((s * 1000) / o.intervalMs);
  try {
    for (let round = 0; round < o.rounds; round++) {
      // Interleaved, so a burst of load on the machine hits every subject alike.
      for (const mode of o.modes) {
        const short = await rollout(mode, o.shortS);
        const long = await rollout(mode, o.longS);
        slope(mode, short, long);
        if (steadyModes.includes(mode)) slope(`${mode} steady`, long, await rollout(mode, o.steadyS));
      }
      const short = await floorRun(runs(o.shortS));
      const long = await floorRun(runs(o.longS));
      slope('floor', short, long);
      if (steadyModes.length > 0) slope('floor steady', long, await floorRun(runs(o.steadyS)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return Object.fromEntries(
    Object.entries(slopes).map(([m, xs]) => [
      m,
      { cpuMsPerEvaluation: median(xs), all: xs, evaluations: median(counts[m]) },
    ]),
  );
}
