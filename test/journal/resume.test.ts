/**
 * Resume and the journal-driven rollback target: which stage a route is at, when canary
 * asks, refuses or resumes, and how the journal's story is told. The engine then resumes
 * at that stage (proved end to end in test/e2e/reliability-resume.test.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createIo } from '../../src/io.js';
import { JournalWriter } from '../../src/journal/journal.js';
import { readStateDir } from '../../src/journal/reader.js';
import { describeResume, stageOfRoute } from '../../src/journal/resume.js';
import { openRolloutSession } from '../../src/journal/session.js';
import { findRollbackTarget } from '../../src/journal/target.js';
import { runRollout } from '../../src/rollout/engine.js';
import { FakeRelay } from '../helpers/index.js';
import { BASE, CANARY, makePlan, ROUTE } from '../rollout/harness.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'canary-resume-'));
const at = (canary: number) => [
  { version_tag: BASE, weight: 100 - canary },
  { version_tag: CANARY, weight: canary },
];

function makeIo() {
  const err: string[] = [];
  const io = createIo({
    stdout: { write: () => true },
    stderr: { write: (s: string) => err.push(s) > 0 },
    stdin: process.stdin,
    env: {},
    cwd: '/',
  });
  return { io, err };
}

describe('stageOfRoute', () => {
  const plan = makePlan();
  it.each([
    [at(0), null],
    [at(5), 0],
    [at(25), 1],
    [at(50), 2],
    [at(100), 3],
    [at(30), null],
    [[...at(25), { version_tag: 'other', weight: 0 }], 1],
    [
      [
        { version_tag: BASE, weight: 70 },
        { version_tag: CANARY, weight: 25 },
        { version_tag: 'o', weight: 5 },
      ],
      null,
    ],
    [
      [
        { version_tag: 'x', weight: 75 },
        { version_tag: CANARY, weight: 25 },
      ],
      null,
    ],
  ])('%j → %s', (rules, stage) => {
    expect(stageOfRoute(plan, rules)).toBe(stage);
  });
});

function setup(canary: number) {
  const clock = new FakeClock();
  const relay = new FakeRelay(clock);
  relay.addVersion(BASE);
  relay.addVersion(CANARY);
  relay.addRoute(ROUTE, at(canary));
  return {
    clock,
    relay,
    plan: makePlan({
      stages: [
        { weight: 5, bakeMs: 60_000 },
        { weight: 25, bakeMs: 60_000 },
        { weight: 100, bakeMs: 0 },
      ],
    }),
  };
}

describe('openRolloutSession resume', () => {
  it('a route at stage 2 with --yes resumes at stage 2, names the interrupted run, and the engine promotes from there', async () => {
    const { clock, relay, plan } = setup(25);
    const stateDir = tmp();
    const { io, err } = makeIo();
    // The interrupted run: a header and a weight change, then nothing (kill -9).
    const before = new JournalWriter(
      { stateDir, route: ROUTE, redact: io.redact, warn: () => {} },
      {
        command: 'rollout',
        at: clock.now() - 5000,
        route: ROUTE,
        plan: plan.file,
        planHash: plan.hash,
        baseline: BASE,
        canary: CANARY,
        relay: 'http://r/v1',
        apiKeyEnv: 'RELAY_API_KEY',
      },
    );
    before.append({ type: 'weights_set', at: clock.now() - 4000, stage: 1, rules: at(25) });
    before.close();

    const common = {
      plan,
      io,
      stateDir,
      relay,
      relayUrl: 'http://r/v1',
      inProcessEmulator: false,
      apiKeyEnv: 'RELAY_API_KEY',
      clock,
    };
    const session = await openRolloutSession({ ...common, interactive: false, yes: true });
    expect(session.startStage).toBe(2);
    expect(err.join('')).toMatch(
      new RegExp(`resuming: route ${ROUTE} is at stage 2/3 .*run ${before.run} .* was interrupted`),
    );

    relay.setProfile(CANARY, {});
    const result = await runRollout(
      plan,
      { clock, relay, emit: session.wrapEmit(() => {}) },
      { startStage: session.startStage },
    );
    session.end(result.exitCode);
    expect(result.outcome).toBe('promoted');
    // Stage 1 (5 %) was never set again: the resumed run went 25 → 100.
    const sets = relay.calls
      .filter((c) => c.op === 'updateRoute')
      .map((c) => c.rules?.find((r) => r.version_tag === CANARY)?.weight);
    expect(sets).toEqual([100]);

    const [journal] = readStateDir(stateDir);
    expect(journal?.runs).toHaveLength(2);
    expect(journal?.runs[0]?.outcome).toBeNull();
    expect(journal?.runs[1]).toMatchObject({ outcome: 'promoted', exitCode: 0 });
    expect(journal?.runs[1]?.header).toMatchObject({ resumes: before.run, startStage: 2 });
  });

  it('without --yes and without a terminal it refuses, saying where the route is and what to run', async () => {
    const { relay, plan, clock } = setup(5);
    const { io } = makeIo();
    const stateDir = tmp();
    await expect(
      openRolloutSession({
        plan,
        io,
        stateDir,
        relay,
        relayUrl: 'u',
        inProcessEmulator: false,
        apiKeyEnv: 'K',
        clock,
        interactive: false,
        yes: false,
      }),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/stage 1\/3 .*nothing was changed/),
      hint: expect.stringMatching(/--yes .*canary rollback/),
    });
    // The refused run released its lock: a retry with --yes gets in.
    const s = await openRolloutSession({
      plan,
      io,
      stateDir,
      relay,
      relayUrl: 'u',
      inProcessEmulator: false,
      apiKeyEnv: 'K',
      clock,
      interactive: false,
      yes: true,
    });
    expect(s.startStage).toBe(1);
    s.end(0);
  });

  it('in a terminal it asks through io.prompter; "no" changes nothing', async () => {
    const { relay, plan, clock } = setup(25);
    const { io } = makeIo();
    const questions: string[] = [];
    // A prompter that records the question and picks the choice whose value is `answer`.
    const answering = (answer: boolean) =>
      io.withPrompter(() => ({
        canAsk: true,
        select: async <T>(q: { message: string; choices: readonly { value: T }[] }) => {
          questions.push(q.message);
          const choice = q.choices.find((c) => c.value === (answer as unknown as T));
          if (!choice) throw new Error('no such choice');
          return choice.value;
        },
        confirm: () => Promise.reject(new Error('not asked')),
        input: () => Promise.reject(new Error('not asked')),
      }));
    const base = {
      plan,
      stateDir: tmp(),
      relay,
      relayUrl: 'u',
      inProcessEmulator: false,
      apiKeyEnv: 'K',
      clock,
      interactive: true,
      yes: false,
    };
    await expect(openRolloutSession({ ...base, io: answering(false) })).rejects.toMatchObject({
      exitCode: 2,
    });
    const s = await openRolloutSession({ ...base, io: answering(true) });
    expect(questions[0]).toMatch(/Resume the rollout at stage 2\?/);
    expect(s.startStage).toBe(2);
    s.end(0);
  });

  it('a route at the baseline, or unknown, starts from the beginning without asking', async () => {
    const { relay, plan, clock } = setup(0);
    const { io } = makeIo();
    const s = await openRolloutSession({
      plan,
      io,
      stateDir: tmp(),
      relay,
      relayUrl: 'u',
      inProcessEmulator: false,
      apiKeyEnv: 'K',
      clock,
      interactive: false,
      yes: false,
    });
    expect(s.startStage).toBeUndefined();
    s.end(0);
  });
});

describe('findRollbackTarget', () => {
  function journal(stateDir: string, route: string, finished: boolean, atMs: number) {
    const { io } = makeIo();
    const w = new JournalWriter(
      { stateDir, route, redact: io.redact, warn: () => {} },
      {
        command: 'rollout',
        at: atMs,
        route,
        baseline: `${route}-v1`,
        relay: 'http://relay/v1',
        apiKeyEnv: 'MY_KEY',
      },
    );
    if (finished)
      w.append({
        type: 'rollout_finished',
        at: atMs + 1,
        outcome: 'promoted',
        exitCode: 0,
        route,
        traffic: null,
        summary: '',
      });
    w.close();
  }

  it('one unfinished rollout among finished ones is the target', async () => {
    const dir = tmp();
    journal(dir, 'a', true, 1);
    journal(dir, 'b', false, 2);
    journal(dir, 'c', true, 3);
    const t = await findRollbackTarget({ stateDir: dir });
    expect(t).toMatchObject({
      route: 'b',
      baseline: 'b-v1',
      header: { relay: 'http://relay/v1', apiKeyEnv: 'MY_KEY' },
    });
  });

  it('several candidates: refused outside a terminal naming --route and each route; asked in one', async () => {
    const dir = tmp();
    journal(dir, 'a', true, 1);
    journal(dir, 'c', true, 3);
    await expect(findRollbackTarget({ stateDir: dir })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/2 routes.*\n.*a \(promoted.*\n.*c \(promoted/),
      hint: expect.stringContaining('--route'),
    });
    const t = await findRollbackTarget({
      stateDir: dir,
      choose: async (choices) => (choices.length === 2 ? 1 : 0),
    });
    expect(t.route).toBe('c');
    expect((await findRollbackTarget({ stateDir: dir, route: 'a' })).route).toBe('a');
  });

  it('an empty state dir says how to roll back instead', async () => {
    await expect(findRollbackTarget({ stateDir: tmp() })).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('--route'),
    });
  });
});

describe('describeResume blames only a run that set this route’s weights on this relay', () => {
  it('skips a later run on an in-process emulator, on another relay, or one that never reached a stage', () => {
    const plan = makePlan();
    const stateDir = tmp();
    const { io } = makeIo();
    const write = (start: number, extra: Record<string, unknown>, weights: boolean) => {
      const w = new JournalWriter(
        { stateDir, route: ROUTE, redact: io.redact, warn: () => {} },
        {
          command: 'rollout',
          at: start,
          route: ROUTE,
          baseline: BASE,
          canary: CANARY,
          relay: 'http://r/v1',
          apiKeyEnv: 'K',
          ...extra,
        },
      );
      if (weights) w.append({ type: 'weights_set', at: start + 1, stage: 1, rules: at(25) });
      w.close();
      return w.run;
    };
    const culprit = write(1_000, {}, true);
    write(2_000, { inProcessEmulator: true, relay: 'http://127.0.0.1:5555/v1' }, true);
    write(3_000, { relay: 'http://other/v1' }, true);
    write(4_000, {}, false); // stopped in pre-flight
    const [journal] = readStateDir(stateDir);
    const info = describeResume(plan, 1, journal?.runs ?? [], 'http://r/v1');
    expect(info.previous?.run).toBe(culprit);
    expect(info.description).toContain(`run ${culprit}`);
  });
});
