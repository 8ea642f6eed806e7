/**
 * `canary history` from journals written by the real writer: a run that stopped before its first
 * stage changed nothing and says so (not "traffic: unknown"); who ran each run, a manual
 * rollback's reason and requests from other shells are shown, in plain and JSON.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHistoryCommand } from '../../src/commands/history.js';
import { createIo } from '../../src/io.js';
import { JournalWriter } from '../../src/journal/journal.js';

function io(stateDir: string) {
  let out = '';
  const made = createIo({
    stdout: {
      write: (s: string) => {
        out += s;
        return true;
      },
    },
    stderr: { write: () => true },
    stdin: process.stdin,
    env: { CANARY_STATE_DIR: stateDir },
    cwd: '/',
  });
  return { io: made, out: () => out };
}

const header = {
  command: 'rollout' as const,
  route: 'chat',
  baseline: 'v1',
  canary: 'v2',
  relay: 'http://relay/v1',
  apiKeyEnv: 'RELAY_API_KEY',
};

describe('canary history', () => {
  it('a run that changed nothing says so; reasons and control requests are listed with who', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'canary-history-'));
    const redact = (s: string) => s;
    const refused = new JournalWriter(
      { stateDir, route: 'chat', redact, warn: () => {} },
      { ...header, at: 1_000 },
    );
    refused.append({ type: 'run_ended', at: 1_500, exitCode: 5, message: 'relay unreachable' });
    refused.close();

    const aborted = new JournalWriter(
      { stateDir, route: 'chat', redact, warn: () => {} },
      { ...header, at: 2_000 },
    );
    const rules = [
      { version_tag: 'v1', weight: 95 },
      { version_tag: 'v2', weight: 5 },
    ];
    aborted.append({
      type: 'stage_started',
      at: 2_100,
      stage: 0,
      stageCount: 2,
      weight: 5,
      bakeMs: 60_000,
      pause: false,
      rules,
    });
    aborted.append({
      type: 'control_request',
      at: 2_200,
      action: 'abort',
      reason: 'bad answers',
      user: 'ana',
      host: 'box',
      pid: 77,
    });
    aborted.close();

    const manual = new JournalWriter(
      { stateDir, route: 'chat', redact, warn: () => {} },
      {
        command: 'rollback',
        at: 3_000,
        route: 'chat',
        baseline: 'v1',
        relay: 'http://relay/v1',
        apiKeyEnv: 'K',
        reason: 'incident 42',
      },
    );
    manual.append({
      type: 'rolled_back',
      at: 3_050,
      rules: [{ version_tag: 'v1', weight: 100 }],
      durationMs: 20,
    });
    manual.append({
      type: 'run_ended',
      at: 3_100,
      exitCode: 0,
      message: 'rolled back chat to v1: incident 42',
    });
    manual.close();

    const plain = io(stateDir);
    expect(await runHistoryCommand({ output: 'plain' }, plain.io)).toBe(0);
    const text = plain.out();
    expect(text).toContain('traffic: unchanged (this run set no weights)');
    expect(text, text).not.toContain('traffic: unknown');
    expect(text).toMatch(/abort by ana@box \(pid 77\): bad answers/);
    expect(text).toContain('reason: incident 42');
    expect(text).toMatch(/by \S+@\S+ \(pid \d+\)/);

    const json = io(stateDir);
    await runHistoryCommand({ output: 'json' }, json.io);
    const runs = json
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(runs[1].control).toEqual([
      {
        at: new Date(2_200).toISOString(),
        action: 'abort',
        full: false,
        reason: 'bad answers',
        user: 'ana',
        host: 'box',
        pid: 77,
      },
    ]);
    expect(runs[2].reason).toBe('incident 42');
  });
});
