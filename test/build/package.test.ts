/**
 * What `npm publish` would ship, and that it works on its own: the package installs no runtime
 * dependency (the bundles carry everything), the tarball holds only what runs, and a tarball
 * installed into an empty prefix runs a whole quickstart rollout with nothing else installed.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIGHT_FORMS, lightBundles } from '../../scripts/build-checks.mjs';
import { PLAN_SCHEMA_URL, SCHEMA_MODELINE } from '../../src/plan/schema-url.js';
import { npm, packTarball, ROOT, execFileAsync as run } from '../helpers/index.js';

interface PackageJson {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  bundleDependencies?: unknown;
  bundledDependencies?: unknown;
  files: string[];
  license: string;
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
  keywords: string[];
}

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Every module the built bundles load at run time that is not one of Node's built-ins. */
async function externalRequires(): Promise<string[]> {
  const found = new Set<string>();
  for (const file of (await readdir(join(ROOT, 'dist'))).filter((f) => f.endsWith('.cjs'))) {
    const text = await readFile(join(ROOT, 'dist', file), 'utf8');
    for (const [, spec] of text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
      // `node:` names count as built-ins even where this Node lacks one (node:sqlite on 20), as in
      // scripts/build-checks.mjs.
      if (spec === undefined || spec.startsWith('node:') || isBuiltin(spec)) continue;
      found.add(
        spec
          .split('/')
          .slice(0, spec.startsWith('@') ? 2 : 1)
          .join('/'),
      );
    }
  }
  return [...found].sort();
}

describe('package.json', () => {
  it('is published as relay-canary with the command canary', () => {
    expect(pkg.name).toBe('relay-canary');
    expect(pkg.bin).toEqual({ canary: 'bin/canary.cjs' });
  });

  it('declares as runtime dependencies exactly what the bundles load from outside themselves: nothing', async () => {
    const needed = await externalRequires();
    expect(needed).toEqual([]);
    // A package listed here would be installed on every user's machine and never loaded.
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual(needed);
    expect(pkg.optionalDependencies).toBeUndefined();
    expect(pkg.peerDependencies).toBeUndefined();
    expect(pkg.bundleDependencies ?? pkg.bundledDependencies).toBeUndefined();
  });

  it('says where it comes from, under which licence', async () => {
    expect(pkg.license).toBe('MIT');
    expect(await readFile(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
    const repo = /github\.com\/([^/]+\/[^/.#]+)/.exec(pkg.repository.url)?.[1];
    expect(repo).toBeDefined();
    expect(pkg.homepage).toContain(`github.com/${repo}`);
    expect(pkg.bugs.url).toBe(`https://github.com/${repo}/issues`);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['canary', 'progressive-delivery', 'rollback']));
  });
});

describe('npm ci', () => {
  it('has no install script left undecided, so a fresh clone installs without warnings', async () => {
    // package.json's allowScripts approves node-pty's build (no Linux prebuild ships) and denies
    // esbuild's postinstall (its binary comes from the @esbuild/<platform> package).
    const { stdout } = await run('npm', ['install-scripts', 'ls', '--json'], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual({ allowScripts: [] });
  });
});

describe('npm pack', () => {
  it('ships only what runs: the shim, the bundles and their data, the examples, the docs npm adds', async () => {
    const { stdout } = await npm(['pack', '--dry-run', '--json']);
    const [packed] = JSON.parse(stdout) as { files: { path: string; size: number }[]; size: number }[];
    const paths = (packed?.files ?? []).map((f) => f.path).sort();
    const examples = [
      ...(await readdir(join(ROOT, 'examples')))
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `examples/${f}`),
      ...(await readdir(join(ROOT, 'examples', 'scenarios'))).map((f) => `examples/scenarios/${f}`),
      // The prompt sets the examples' evaluation: blocks name.
      ...(await readdir(join(ROOT, 'examples', 'prompts'))).map((f) => `examples/prompts/${f}`),
    ];
    expect(paths).toEqual(
      [
        'LICENSE',
        'README.md',
        'package.json',
        'bin/canary.cjs',
        'dist/cli.cjs',
        'dist/rollback.cjs',
        // The command bundles (scripts/build-checks.mjs lightBundles): one per set of modules.
        ...Object.keys(lightBundles()).map((name) => `dist/${name}.cjs`),
        // The forms of a command that need less (LIGHT_FORMS): `status --route R`'s.
        ...Object.keys(LIGHT_FORMS).map((name) => `dist/${name}.cjs`),
        // The report renderer and ECharts, loaded only by `canary report` and `rollout --report`.
        'dist/report.cjs',
        // ora, loaded only when a spinner is drawn (src/terminal/spinner.ts).
        'dist/spinner.cjs',
        'dist/version.json',
        'dist/help.json',
        'dist/plan.schema.json',
        ...examples,
      ].sort(),
    );
    // No source maps, journals, code caches or sources. The tarball was under 1 MB before the
    // report; dist/report.cjs adds about 240 kB gzipped (ECharts' runtime, which the page carries
    // for hover values, is 190 kB of it), so the bound is 1.25 MB.
    expect(paths.filter((p) => /\.map$|\.canary|\.cache|^src\/|\.ndjson$/.test(p))).toEqual([]);
    expect(packed?.size).toBeLessThan(1.25 * 1024 * 1024);
  });

  it('ships the plan schema where the modeline canary init writes points', async () => {
    // The URL names this version's copy of dist/plan.schema.json on a public npm CDN.
    expect(PLAN_SCHEMA_URL).toBe(
      `https://cdn.jsdelivr.net/npm/${pkg.name}@${pkg.version}/dist/plan.schema.json`,
    );
    const { stdout } = await run(process.execPath, [join(ROOT, 'bin/canary.cjs'), 'schema']);
    expect(await readFile(join(ROOT, 'dist/plan.schema.json'), 'utf8')).toBe(stdout);
    expect(JSON.parse(stdout).$id).toBe(PLAN_SCHEMA_URL);
    // The README shows the modeline of this version.
    expect(await readFile(join(ROOT, 'README.md'), 'utf8')).toContain(SCHEMA_MODELINE);
  });
});

describe('the packed tarball, installed into an empty prefix', () => {
  let dir: string;
  let prefix: string;
  /** Only the prefix's bin and node itself: nothing from this repository's node_modules. */
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'canary-pack-'));
    prefix = join(dir, 'prefix');
    const tarball = await packTarball(dir);
    // --offline: with no dependencies, installing needs nothing from a registry.
    await npm(['install', '--global', '--offline', '--prefix', prefix, tarball], dir);
    env = {
      PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}`,
      HOME: dir,
      TMPDIR: tmpdir(),
    };
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('installs nothing but itself', async () => {
    const installed = await readdir(join(prefix, 'lib', 'node_modules'));
    expect(installed).toEqual(['relay-canary']);
    const nested = await readdir(join(prefix, 'lib', 'node_modules', 'relay-canary'));
    expect(nested).not.toContain('node_modules');
  });

  it('answers canary --version', async () => {
    const { stdout } = await run('canary', ['--version'], { env, cwd: dir });
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  it('validates its own example through the command bundle', async () => {
    const examples = join(prefix, 'lib', 'node_modules', 'relay-canary', 'examples');
    const { stdout, stderr } = await run('canary', ['validate', join(examples, 'quickstart.yaml')], {
      env,
      cwd: dir,
    });
    expect(stdout).toContain('is valid');
    expect(stderr).toBe('');
  });

  it('runs the quickstart rollout from its own examples to promotion, and simulates it as written', async () => {
    const work = join(dir, 'work');
    await mkdir(work);
    await cp(join(prefix, 'lib', 'node_modules', 'relay-canary', 'examples'), join(work, 'examples'), {
      recursive: true,
    });
    // What is tested is the installed bundles: the quickstart as shipped (its emulator, scenario,
    // prompt set, evaluation and analysis), on two stages instead of four, the first baking 4 s
    // (the paired latency test needs four 1 s windows) instead of 6 s.
    const plan = join(work, 'examples', 'quick.yaml');
    const text = await readFile(join(work, 'examples', 'quickstart.yaml'), 'utf8');
    await writeFile(
      plan,
      text.replace(/^stages: .*$/m, 'stages: [50, 100]').replace(/^bake: .*$/m, 'bake: 4s'),
    );
    const { stdout, stderr } = await run('canary', ['rollout', 'examples/quick.yaml', '-o', 'json'], {
      env: { ...env, CI: 'true' },
      cwd: work,
    });
    const events = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.some((e) => e.type === 'prompt_eval_finished')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'rollout_finished', outcome: 'promoted' });
    expect(stderr).not.toMatch(/Cannot find module|MODULE_NOT_FOUND/);

    // The quickstart as written (four stages of 6 s), on a fake clock: `canary simulate`.
    const simulated = await run(
      'canary',
      ['simulate', 'examples/quickstart.yaml', '--seeds', '1', '-o', 'json'],
      {
        env,
        cwd: work,
      },
    );
    expect(JSON.parse(simulated.stdout)).toMatchObject({ seeds: 1, promoted_pct: 100 });
  }, 120_000);
});
