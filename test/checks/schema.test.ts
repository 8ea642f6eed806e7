/** `checks:` and `notify:` in the plan: normalised when right, located and explained when wrong. */
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/load.js';
import { MINIMAL, problemsOf, yaml } from '../plan/helpers.js';

const parse = (text: string) => parsePlan(text, 'plan.yaml', { cwd: '/plans' });

describe('plan schema: checks and notify', () => {
  it('accepts top-level and per-stage checks and webhooks, filling defaults', () => {
    const plan = parse(
      yaml(
        ...MINIMAL.filter((l) => !l.startsWith('stages')),
        'stages:',
        '  - { weight: 5, checks: [{ name: eval, run: ./eval.sh, timeout: 10m }] }',
        '  - 100',
        'checks:',
        '  - { name: smoke, run: ./smoke.sh, timeout: 30s }',
        '  - { run: ./other.sh }',
        'notify:',
        '  - { url_env: SLACK_WEBHOOK_URL, format: slack, events: [rolled_back, failed] }',
        '  - { url: "https://hooks.example.com/x/y", timeout: 2s }',
      ),
    );
    expect(plan.checks).toEqual([
      { name: 'smoke', run: './smoke.sh', timeoutMs: 30_000 },
      { name: './other.sh', run: './other.sh', timeoutMs: 120_000 },
    ]);
    expect(plan.stages[0]?.checks).toEqual([{ name: 'eval', run: './eval.sh', timeoutMs: 600_000 }]);
    expect(plan.stages[1]?.checks).toBeUndefined();
    expect(plan.notify).toEqual([
      { urlEnv: 'SLACK_WEBHOOK_URL', events: ['rolled_back', 'failed'], format: 'slack', timeoutMs: 5_000 },
      {
        url: 'https://hooks.example.com/x/y',
        events: ['started', 'stage_passed', 'paused', 'promoted', 'rolled_back', 'failed'],
        format: 'json',
        timeoutMs: 2_000,
      },
    ]);
  });

  it('a plan without them has neither', () => {
    const plan = parse(yaml(...MINIMAL));
    expect(plan.checks).toBeUndefined();
    expect(plan.notify).toBeUndefined();
  });

  it('reports each mistake at its line:column with a hint, never echoing a webhook URL', () => {
    const problems = problemsOf(
      yaml(
        ...MINIMAL,
        'checks:', // 9
        '  - { name: smoke, run: ./smoke.sh, timout: 1m }', // 10
        '  - { name: smoke, run: ./again.sh }', // 11
        '  - { name: nothing }', // 12
        '  - { run: ./x.sh, timeout: soon }', // 13
        'notify:', // 14
        '  - { url_env: SLACK_WEBHOOK_URL, events: [started, rolledback] }', // 15
        '  - { url: "ftp://hooks.example.com/T/secretpath", format: xml }', // 16
        '  - { format: json }', // 17
        '  - { url_env: "https://hooks.slack.com/services/T/B/pasted" }', // 18
        'notfy: []', // 19
      ),
    );
    expect(problems).toEqual([
      "10:37: unknown key 'timout' in checks[0]; did you mean 'timeout'?",
      "11:13: checks[1]: another check in this list is already named 'smoke'",
      "12:5: missing required key 'run' in checks[2]",
      "13:29: checks[3].timeout: expected a duration like 30s, 10m or 1h30m, got 'soon'",
      "15:53: notify[0].events[1]: unknown event 'rolledback'; did you mean 'rolled_back'?",
      '16:12: notify[1].url: expected an http(s) webhook URL (prefer url_env: webhook URLs are secrets)',
      "16:60: notify[1].format: expected slack or json, got 'xml'",
      '17:5: notify[2]: needs url_env (the env var holding the webhook URL) or url',
      '18:16: notify[3].url_env: expected the name of an environment variable like SLACK_WEBHOOK_URL',
      "19:1: unknown key 'notfy' at the top level; did you mean 'notify'?",
    ]);
    expect(problems.join('\n')).not.toContain('secretpath');
    expect(problems.join('\n')).not.toContain('pasted');
  });

  it('checks in a stage are checked like top-level ones', () => {
    expect(
      problemsOf(
        yaml(
          ...MINIMAL.filter((l) => !l.startsWith('stages')),
          'stages:',
          '  - { weight: 5, checks: ./x.sh }',
          '  - 100',
        ),
      ),
    ).toEqual([
      "9:26: stages[0].checks: expected a list of checks like [{name: smoke, run: ./smoke.sh, timeout: 2m}], got './x.sh'",
    ]);
  });
});
