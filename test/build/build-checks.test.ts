import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkBundleText,
  checkImportText,
  checkLightInputs,
  checkReportOutside,
  checkRollbackInputs,
  LIGHT_COMMANDS,
  LIGHT_FORMS,
  lightBundles,
} from '../../scripts/build-checks.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('checkImportText: only the named exports the trimmed packages keep', () => {
  it('passes named imports of allowed names and reports the prompts used', () => {
    const text = [
      "import { Agent, type Dispatcher } from 'undici';",
      "const { select, input: ask } = await import('@inquirer/prompts');",
    ].join('\n');
    expect(checkImportText('src/x.ts', text)).toEqual({
      undici: ['Agent', 'Dispatcher'],
      '@inquirer/prompts': ['select', 'input'],
    });
    expect(checkImportText('src/y.ts', "import { join } from 'node:path';")).toEqual({});
  });

  it.each([
    ['a name the trimmed bundle lacks', "import { fetch } from 'undici';"],
    ['a namespace import', "import * as undici from 'undici';"],
    ['a default import beside a named one', "import { Agent } from 'undici';\nimport u from 'undici';"],
    ['a subpath', "import { Client } from 'undici/lib/dispatcher/client.js';"],
    ['a prompt the build does not list', "import { editor } from '@inquirer/prompts';"],
  ])('refuses %s', (_, text) => {
    expect(() => checkImportText('src/x.ts', text)).toThrow(
      /^src\/x\.ts uses (undici|@inquirer\/prompts) beyond/,
    );
  });
});

describe('checkRollbackInputs: what the rollback bundle must not carry', () => {
  it('passes the rollback path', () => {
    expect(() =>
      checkRollbackInputs(['src/rollback-entry.ts', 'src/relay/socket-transport.ts', 'src/shape/reader.ts']),
    ).not.toThrow();
  });

  it.each([
    'node_modules/undici/lib/dispatcher/agent.js',
    'node_modules/zod/v4/mini/index.js',
    'node_modules/yaml/dist/index.js',
    'node_modules/commander/lib/command.js',
    'node_modules/@inquirer/core/dist/index.js',
    'src/plan/load.ts',
  ])('refuses %s', (input) => {
    expect(() => checkRollbackInputs(['src/rollback-entry.ts', input])).toThrow(
      `dist/rollback.cjs includes ${input}`,
    );
  });
});

describe('checkReportOutside: the charting library stays in dist/report.cjs', () => {
  it('passes the report command and the pure report model', () => {
    expect(() =>
      checkReportOutside('dist/cli.cjs', [
        'src/commands/report.ts',
        'src/report/model.ts',
        'src/report/write.ts',
      ]),
    ).not.toThrow();
  });

  it.each([
    'node_modules/echarts/lib/core/echarts.js',
    'node_modules/zrender/lib/zrender.js',
    'src/report/render.ts',
    'src/report/html.ts',
  ])('refuses %s', (input) => {
    expect(() => checkReportOutside('dist/cli.cjs', ['src/cli.ts', input])).toThrow(
      `dist/cli.cjs includes ${input}`,
    );
  });

  it('holds for the built bundles: the CLI, the rollback and the light commands do not carry ECharts, the report does', () => {
    const text = (name: string) => readFileSync(join(ROOT, 'dist', name), 'utf8');
    const light = [...Object.keys(lightBundles()), ...Object.keys(LIGHT_FORMS)].map((n) => `${n}.cjs`);
    for (const name of ['cli.cjs', 'rollback.cjs', ...light])
      expect(text(name).includes('canaryCharts'), name).toBe(false);
    expect(text('report.cjs').includes('canaryCharts')).toBe(true);
  });
});

describe('checkBundleText: what bin/canary.cjs can load fast', () => {
  it('passes built-ins and Latin-1 text', () => {
    expect(() =>
      checkBundleText('dist/a.cjs', 'var n=require("node:net"),f=require("fs");var s="caf\u00e9";'),
    ).not.toThrow();
  });

  it('refuses a require of a package, which the shim cannot resolve', () => {
    expect(() => checkBundleText('dist/a.cjs', 'var u=require("undici");')).toThrow(
      'dist/a.cjs requires undici, which is not a built-in',
    );
  });

  it('refuses a character beyond Latin-1, near where it stands', () => {
    expect(() => checkBundleText('dist/a.cjs', 'var r=/a\u2192b/;')).toThrow(
      /beyond Latin-1 near "var r=\/a/,
    );
  });

  it('passes the bundles this build wrote', () => {
    const light = [...Object.keys(lightBundles()), ...Object.keys(LIGHT_FORMS)].map((c) => `${c}.cjs`);
    for (const name of ['cli.cjs', 'rollback.cjs', ...light]) {
      expect(() => checkBundleText(name, readFileSync(join(ROOT, 'dist', name), 'utf8'))).not.toThrow();
    }
  });
});

describe('checkLightInputs: what a command bundle must not carry', () => {
  it('passes a short command', () => {
    expect(() =>
      checkLightInputs('status', [
        'src/cli.ts',
        'src/relay/socket-pool.ts',
        'node_modules/yaml/dist/index.js',
      ]),
    ).not.toThrow();
  });

  it.each([
    'node_modules/undici/lib/dispatcher/agent.js',
    'node_modules/prom-client/index.js',
    'src/emulator/server.ts',
  ])('refuses %s', (input) => {
    expect(() => checkLightInputs('validate', ['src/cli.ts', input])).toThrow(
      `dist/validate.cjs includes ${input}`,
    );
  });
});

describe('checkLightInputs: what a form of a command (LIGHT_FORMS) leaves out', () => {
  it('passes `status --route` built without the plan loader', () => {
    expect(() =>
      checkLightInputs('status-route', ['src/cli.ts', 'src/relay/socket-pool.ts', 'src/plan/duration.ts']),
    ).not.toThrow();
  });

  it.each([
    'node_modules/yaml/dist/index.js',
    'src/plan/load.ts',
    'src/plan/reader.ts',
    'node_modules/jsonpath-plus/dist/index-node-esm.js',
  ])('refuses %s in the route form of status', (input) => {
    expect(() => checkLightInputs('status-route', ['src/cli.ts', input])).toThrow(
      `dist/status-route.cjs includes ${input}: this form of 'status' must keep`,
    );
  });
});

describe('command bundles (LIGHT_COMMANDS)', () => {
  it("hold the program but no other command's code", () => {
    const history = readFileSync(join(ROOT, 'dist', 'history.cjs'), 'utf8');
    // Its own command, and the program's others only as definitions that throw if ever run.
    expect(history).toContain('function runHistoryCommand(');
    expect(history).not.toContain('function runRolloutCommand(');
    expect(history).toContain("dist/history.cjs holds only 'canary history', not ./commands/rollout.js");
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'version.json'), 'utf8'));
    expect(Object.keys(meta.commands).sort()).toEqual(Object.keys(LIGHT_COMMANDS).sort());
  });

  it('share one bundle between commands that load the same modules', () => {
    expect(lightBundles()).toEqual({
      validate: ['validate'],
      status: ['status'],
      history: ['history'],
      control: ['promote', 'pause', 'resume', 'abort'],
    });
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'version.json'), 'utf8'));
    for (const command of ['promote', 'pause', 'resume', 'abort'])
      expect(meta.commands[command]).toEqual(meta.commands.control ?? meta.commands.promote);
    expect(meta.commands.pause.file).toBe('control.cjs');
    const control = readFileSync(join(ROOT, 'dist', 'control.cjs'), 'utf8');
    expect(control).toContain(
      "dist/control.cjs holds only 'canary promote', 'canary pause', 'canary resume', 'canary abort', not ./commands/rollout.js",
    );
  });
});

describe('scripts/build.mjs runs the checks', () => {
  const copy = mkdtempSync(join(tmpdir(), 'canary-build-'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('fails, naming the file, when the rollback entry reaches undici', () => {
    for (const part of ['src', 'scripts', 'package.json'])
      cpSync(join(ROOT, part), join(copy, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const entry = join(copy, 'src', 'rollback-entry.ts');
    writeFileSync(
      entry,
      `${readFileSync(entry, 'utf8')}\nexport { undiciTransport } from './relay/undici-transport.js';\n`,
    );
    const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: copy, encoding: 'utf8' });
    expect(build.status).not.toBe(0);
    expect(build.stderr).toMatch(
      /dist\/rollback\.cjs includes \S*node_modules\/undici\/.*keep node_modules\/undici\/ out/,
    );
  });
});
