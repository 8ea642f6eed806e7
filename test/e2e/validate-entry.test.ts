/**
 * `canary validate` runs from its own entry (dist/validate-entry.cjs, src/validate-entry.ts: no
 * commander), which reads the command line with node:util's parseArgs and hands what it does
 * not take to validate's whole bundle. Users must not be able to tell: for each command line
 * here, what the shim prints and its exit code are compared byte for byte with the full CLI
 * (dist/cli.cjs, commander, every command) run on the same arguments in the same folder.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, baseEnv, ROOT, type RunResult, runCli } from '../helpers/index.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'canary-validate-entry-'));
  writeFileSync(path.join(dir, 'not-yaml.yaml'), 'route: [unclosed\n');
  writeFileSync(path.join(dir, 'bad-keys.yaml'), 'relay:\n  url: emulator\nroute: r\nstagess: [5, 100]\n');
  writeFileSync(path.join(dir, 'not-utf8.yaml'), Buffer.from([0x72, 0x3a, 0x20, 0xff, 0xfe, 0x0a]));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The full CLI on the same argv: dist/cli.cjs's own run(), which builds commander's whole program. */
function viaFullCli(args: string[], env: Record<string, string>): Promise<RunResult> {
  const cli = path.join(ROOT, 'dist', 'cli.cjs');
  return new Promise((resolve, reject) => {
    // `node -e` puts its first extra argument at argv[1]; run() reads from argv[2].
    const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(cli)}).run()`, '_', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function expectSameAsFullCli(args: string[], env = baseEnv()): Promise<RunResult> {
  const run = await runCli(['validate', ...args], { cwd: ROOT, env });
  const full = await viaFullCli(['validate', ...args], env);
  expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }, args.join(' ')).toEqual({
    code: full.code,
    stdout: full.stdout,
    stderr: full.stderr,
  });
  return run;
}

describe('validate runs from its own entry', () => {
  it('the shim runs dist/validate-entry.cjs for every validate command line, and it carries no commander', () => {
    const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist', 'version.json'), 'utf8'));
    expect(meta.commands.validate.always.file).toBe('validate-entry.cjs');
    const bundle = readFileSync(path.join(ROOT, 'dist', 'validate-entry.cjs'), 'utf8');
    expect(bundle).not.toContain('node_modules/commander/');
    expect(bundle).toContain('node_modules/yaml/');
  });

  it.each([
    ['quickstart', ['examples/quickstart.yaml']],
    ['production, -o json', ['examples/production.yaml', '-o', 'json']],
    ['llm, --output=json before the plan', ['--output=json', 'examples/llm.yaml']],
    ['bad-canary, --no-color', ['examples/bad-canary.yaml', '--no-color']],
    ['bad-answers, -o plain twice', ['-o', 'json', 'examples/bad-answers.yaml', '-o', 'plain']],
  ])('a valid plan (%s) reads the same as through commander', async (_, args) => {
    const run = await expectSameAsFullCli(args);
    expect(run.code).toBe(0);
  });

  it('with colour forced, the summary is the same', async () => {
    await expectSameAsFullCli(['examples/quickstart.yaml'], baseEnv({ FORCE_COLOR: '1' }));
  });

  it.each([
    ['not YAML', 'not-yaml.yaml'],
    ['an unknown key', 'bad-keys.yaml'],
    ['not UTF-8', 'not-utf8.yaml'],
    ['a missing file', 'missing.yaml'],
  ])('a bad plan (%s) is refused the same way, plain and JSON', async (_, file) => {
    const plan = path.join(dir, file);
    expect((await expectSameAsFullCli([plan])).code).toBe(2);
    expect((await expectSameAsFullCli([plan, '-o', 'json'])).code).toBe(2);
  });

  it('an output mode it does not know is refused by validate itself, the same way', async () => {
    const run = await expectSameAsFullCli(['examples/quickstart.yaml', '-o', 'yaml']);
    expect(run.stderr).toContain('validate --output takes plain or json');
  });
});

describe('what the entry does not read goes to the whole validate bundle, worded by commander', () => {
  it.each([
    ['no plan', [], "error: missing required argument 'plan'"],
    ['two plans', ['examples/quickstart.yaml', 'examples/llm.yaml'], 'error: too many arguments'],
    ['an unknown flag', ['examples/quickstart.yaml', '--bogus'], "error: unknown option '--bogus'"],
    ['a mistyped flag', ['examples/quickstart.yaml', '--outpt', 'json'], "error: unknown option '--outpt'"],
    [
      'a flag without its value',
      ['examples/quickstart.yaml', '-o'],
      "option '-o, --output <mode>' argument missing",
    ],
    ['help after the plan', ['examples/quickstart.yaml', '--help'], 'Usage: canary validate'],
    ['the plan after --', ['--', 'examples/quickstart.yaml'], 'examples/quickstart.yaml is valid'],
  ])('%s', async (_, args, words) => {
    const run = await expectSameAsFullCli(args);
    expect(run.stdout + run.stderr).toContain(words);
  });
});

describe('its output, written straight to the descriptor (src/direct-output.ts)', () => {
  /** Runs the shim with stdout as given; resolves with the exit code and stderr. */
  function runWithStdout(
    args: string[],
    stdout: 'pipe' | number,
    onChild?: (child: ReturnType<typeof spawn>) => void,
  ): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'validate', ...args], {
        cwd: ROOT,
        env: baseEnv(),
        stdio: ['ignore', stdout, 'pipe'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (s: string) => {
        stderr += s;
      });
      onChild?.(child);
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('to a file: the same bytes as the full CLI prints', async () => {
    const file = path.join(dir, 'summary.txt');
    const fd = openSync(file, 'w');
    const run = await runWithStdout(['examples/llm.yaml'], fd);
    closeSync(fd);
    const full = await viaFullCli(['validate', 'examples/llm.yaml'], baseEnv());
    expect(run).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe(full.stdout);
  });

  it('to a pipe whose reader has gone: the run still ends with its own code, and says nothing', async () => {
    const run = await runWithStdout(['examples/quickstart.yaml'], 'pipe', (child) => child.stdout?.destroy());
    expect(run).toEqual({ code: 0, stderr: '' });
  });
});
