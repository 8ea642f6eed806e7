/**
 * The journal and the route lock on a real file system (a temp dir per test): records are
 * complete and in order, secrets are scrubbed, a torn line is survived, a write failure
 * warns once and never throws, and the lock admits one rollout per route.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIo } from '../../src/io.js';
import { JournalWriter, journalPath, resolveStateDir } from '../../src/journal/journal.js';
import { acquireLock, lockPath } from '../../src/journal/lock.js';
import { chooseStateDir, describeStateDir } from '../../src/journal/paths.js';
import { readJournal, readStateDir } from '../../src/journal/reader.js';
import { summarizeRuns } from '../../src/journal/run-summary.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'canary-journal-'));
const SECRET = 'sk-journal-secret-4b7e1d';

function io() {
  const out: string[] = [];
  const made = createIo({
    stdout: { write: (s: string) => out.push(s) > 0 },
    stderr: { write: (s: string) => out.push(s) > 0 },
    stdin: process.stdin,
    env: {},
    cwd: '/',
  });
  made.addSecret(SECRET);
  return { io: made, out };
}

function header(at = 1000) {
  return {
    command: 'rollout' as const,
    at,
    route: 'r/1',
    plan: '/p/plan.yaml',
    planHash: 'abc',
    baseline: 'v1',
    canary: 'v2',
    relay: 'https://relay.example/v1',
    apiKeyEnv: 'RELAY_API_KEY',
  };
}

describe('JournalWriter', () => {
  it('writes a header then one line per record, in order, with run id and seq; a second run appends', () => {
    const dir = tmp();
    const { io: made } = io();
    const w = new JournalWriter(
      { stateDir: dir, route: 'r/1', redact: made.redact, warn: () => {} },
      header(),
    );
    w.append({ type: 'weights_set', at: 1001, stage: 0, rules: [{ version_tag: 'v2', weight: 5 }] });
    w.append({ type: 'log', at: 1002, level: 'info', message: `key is ${SECRET}` });
    w.close();
    const w2 = new JournalWriter(
      { stateDir: dir, route: 'r/1', redact: made.redact, warn: () => {} },
      header(2000),
    );
    w2.append({ type: 'run_ended', at: 2001, exitCode: 5, message: 'boom' });
    w2.close();

    const file = journalPath(dir, 'r/1');
    expect(path.basename(file)).toBe('r_1.journal.ndjson'); // no directory from a route name
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('[REDACTED]');
    const records = readJournal(file);
    expect(records.map((r) => r.type)).toEqual([
      'run_started',
      'weights_set',
      'log',
      'run_started',
      'run_ended',
    ]);
    expect(records.slice(0, 3).map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(new Set(records.map((r) => r.run)).size).toBe(2);
    expect(records[0]).toMatchObject({
      pid: process.pid,
      host: hostname(),
      relay: 'https://relay.example/v1',
    });

    const runs = summarizeRuns(records);
    expect(runs).toHaveLength(2);
    expect(runs[0]?.outcome).toBeNull(); // never finished: what resume and rollback look for
    expect(runs[1]).toMatchObject({ outcome: 'failed', exitCode: 5, decisive: 'boom' });
  });

  it('skips a torn last line (kill -9 mid-write) and keeps everything before it', () => {
    const dir = tmp();
    const { io: made } = io();
    const w = new JournalWriter({ stateDir: dir, route: 'r', redact: made.redact, warn: () => {} }, header());
    w.close();
    appendFileSync(journalPath(dir, 'r'), '{"type":"weights_set","run":"x","seq":');
    const records = readJournal(journalPath(dir, 'r'));
    expect(records.map((r) => r.type)).toEqual(['run_started']);
  });

  it('a write failure warns once and never throws; the rollout goes on', () => {
    const dir = tmp();
    chmodSync(dir, 0o500); // cannot create the journal inside
    const warnings: string[] = [];
    const { io: made } = io();
    const w = new JournalWriter(
      { stateDir: path.join(dir, 'sub'), route: 'r', redact: made.redact, warn: (m) => warnings.push(m) },
      header(),
    );
    expect(() => w.append({ type: 'log', at: 1, level: 'info', message: 'x' })).not.toThrow();
    w.append({ type: 'log', at: 2, level: 'info', message: 'y' });
    w.close();
    chmodSync(dir, 0o700);
    if (process.getuid?.() === 0) return; // root writes anyway
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot write the journal .* continues/);
  });

  it('fsyncs every record that changes what resume would do, and observations within 5 s', () => {
    const dir = tmp();
    const { io: made } = io();
    const synced: number[] = [];
    let now = 0;
    const w = new JournalWriter(
      {
        stateDir: dir,
        route: 'r',
        redact: made.redact,
        warn: () => {},
        sync: () => synced.push(now),
        now: () => now,
      },
      header(),
    );
    expect(synced).toEqual([0]); // the header
    const log = (at: number) => w.append({ type: 'log', at, level: 'info', message: `m${at}` });
    for (let i = 1; i <= 4; i++) {
      now = i * 1_000;
      log(now);
    }
    expect(synced).toEqual([0]); // four observations, none past 5 s
    now = 6_500;
    log(now);
    expect(synced).toEqual([0, 6_500]); // the first waited 5.5 s: all five go to disk
    now = 7_000;
    log(now);
    now = 7_100;
    w.append({ type: 'stage_passed', at: now, stage: 0, weight: 5 });
    expect(synced).toEqual([0, 6_500, 7_100]); // a state record takes the waiting one with it
    now = 8_000;
    log(now);
    w.close();
    expect(synced).toEqual([0, 6_500, 7_100, 8_000]); // closing leaves nothing unsynced
    // Written at once all the same: a killed process loses nothing.
    expect(readFileSync(journalPath(dir, 'r'), 'utf8').trim().split('\n')).toHaveLength(9);
  });

  it('summaries name the decisive check and the last traffic', () => {
    const dir = tmp();
    const { io: made } = io();
    const w = new JournalWriter({ stateDir: dir, route: 'r', redact: made.redact, warn: () => {} }, header());
    const rules = [
      { version_tag: 'v1', weight: 100 },
      { version_tag: 'v2', weight: 0 },
    ];
    w.append({
      type: 'stage_started',
      at: 1100,
      stage: 1,
      stageCount: 4,
      weight: 25,
      bakeMs: 1,
      pause: false,
      rules,
    });
    w.append({
      type: 'rollback_started',
      at: 1200,
      stage: 1,
      cause: 'health',
      reason: 'error_rate 0.09 > 0.03',
      to: rules,
    });
    w.append({
      type: 'rollout_finished',
      at: 1300,
      outcome: 'rolled_back',
      exitCode: 3,
      route: 'r',
      traffic: rules,
      summary: 's',
    });
    w.close();
    const [journal] = readStateDir(dir);
    expect(journal?.runs[0]).toMatchObject({
      outcome: 'rolled_back',
      exitCode: 3,
      durationMs: 300,
      stage: 1,
      decisive: 'health: error_rate 0.09 > 0.03',
      rules,
    });
  });

  it('state dir: the nearest .canary/ up from the cwd, below the home folder; then the cwd when it holds the plan', () => {
    const root = tmp();
    const repo = path.join(root, 'home', 'me', 'repo');
    const sub = path.join(repo, 'deploy', 'prod');
    mkdirSync(sub, { recursive: true });
    const env = { HOME: path.join(root, 'home', 'me') };
    // Nothing yet: a rollout of deploy/canary.yaml from the repo root writes to the repo root.
    expect(chooseStateDir({ env, cwd: repo, planFile: 'deploy/canary.yaml' })).toEqual({
      dir: path.join(repo, '.canary'),
      source: 'cwd',
    });
    // A plan outside the current folder: next to the plan.
    expect(chooseStateDir({ env, cwd: sub, planFile: path.join(root, 'p.yaml') })).toEqual({
      dir: path.join(root, '.canary'),
      source: 'plan',
    });
    mkdirSync(path.join(repo, '.canary'));
    // Found from below, by every command, with or without a plan.
    expect(chooseStateDir({ env, cwd: sub })).toEqual({ dir: path.join(repo, '.canary'), source: 'found' });
    expect(chooseStateDir({ env, cwd: sub, planFile: path.join(root, 'p.yaml') }).dir).toBe(
      path.join(repo, '.canary'),
    );
    // ~/.canary (where key files live) is not a state folder the walk picks up.
    mkdirSync(path.join(root, 'home', 'me', '.canary'));
    const elsewhere = path.join(root, 'home', 'me', 'other');
    mkdirSync(elsewhere);
    expect(chooseStateDir({ env, cwd: elsewhere })).toEqual({
      dir: path.join(elsewhere, '.canary'),
      source: 'cwd',
    });
    expect(describeStateDir(chooseStateDir({ env, cwd: sub }))).toBe(
      `state folder ${path.join(repo, '.canary')} (the nearest .canary/ from the current folder)`,
    );
  });

  it('state dir: flag, then $CANARY_STATE_DIR, then .canary next to the plan, then the cwd', () => {
    expect(
      resolveStateDir({ flag: 's', env: { CANARY_STATE_DIR: 'e' }, cwd: '/w', planFile: '/p/x.yaml' }),
    ).toBe('/w/s');
    expect(resolveStateDir({ env: { CANARY_STATE_DIR: 'e' }, cwd: '/w', planFile: '/p/x.yaml' })).toBe(
      '/w/e',
    );
    expect(resolveStateDir({ env: {}, cwd: '/w', planFile: '/p/x.yaml' })).toBe('/p/.canary');
    expect(resolveStateDir({ env: {}, cwd: '/w' })).toBe('/w/.canary');
  });
});

describe('route lock', () => {
  const warn = () => {};

  it('admits one holder; the second is refused with exit 5, naming the holder; release frees it', () => {
    const dir = tmp();
    const first = acquireLock({ stateDir: dir, route: 'r', plan: '/p.yaml', now: 0, warn });
    let refused: unknown;
    try {
      acquireLock({ stateDir: dir, route: 'r', now: 0, warn });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ exitCode: 5 });
    expect(String((refused as Error).message)).toContain(`pid ${process.pid}`);
    expect(String((refused as Error).message)).toContain('nothing was changed');
    first.release();
    acquireLock({ stateDir: dir, route: 'r', now: 0, warn }).release();
  });

  it('takes over a lock whose process is dead on this host, with a warning', () => {
    const dir = tmp();
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    writeFileSync(lockPath(dir, 'r'), JSON.stringify({ pid: dead, host: hostname(), startedAt: 'then' }));
    const warnings: string[] = [];
    const lock = acquireLock({ stateDir: dir, route: 'r', now: 0, warn: (m) => warnings.push(m) });
    expect(warnings.join('')).toContain(`pid ${dead}`);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('never takes over a lock from another host (its pid means nothing here)', () => {
    const dir = tmp();
    writeFileSync(lockPath(dir, 'r'), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'then' }));
    expect(() => acquireLock({ stateDir: dir, route: 'r', now: 0, warn })).toThrow(/pid 1 on elsewhere/);
  });

  it('release leaves a lock that someone else now holds', () => {
    const dir = tmp();
    const lock = acquireLock({ stateDir: dir, route: 'r', now: 0, warn });
    writeFileSync(lock.file, JSON.stringify({ pid: 999999, host: 'other', startedAt: 'x' }));
    lock.release();
    expect(readFileSync(lock.file, 'utf8')).toContain('999999');
  });
});
