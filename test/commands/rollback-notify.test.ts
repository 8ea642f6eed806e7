/** What a manual rollback tells: the webhook notice and the GitHub step summary, from its announcement. */
import { describe, expect, it } from 'vitest';
import type { RollbackAnnouncement } from '../../src/commands/rollback-announce.js';
import { rollbackNotice } from '../../src/commands/rollback-notify.js';
import { rollbackSummary } from '../../src/commands/rollback-summary.js';
import { NoticeMapper, noticeBody } from '../../src/notify/webhook.js';
import { makePlan } from '../rollout/harness.js';

const plan = makePlan();
const failed: RollbackAnnouncement = {
  route: plan.route,
  to: plan.baseline.tag,
  reason: 'bad `answers`\nsee | ticket',
  at: Date.UTC(2026, 0, 2, 3, 4, 5),
  failure: {
    message: 'rollback not confirmed within 60 s: HTTP 500',
    exitCode: 4,
    hint: 'restore it by hand:\n  curl -X PATCH … ```',
  },
};

describe('a manual rollback announced', () => {
  it('a failure is a failed notice with the reason, who, the error and the command to run by hand', () => {
    const n = rollbackNotice(plan, failed, 'ana@box');
    expect(n).toMatchObject({
      event: 'failed',
      outcome: 'rollback_failed',
      reason: failed.reason,
      by: 'ana@box',
    });
    expect(n.summary).toContain('FAILED: bad `answers`');
    expect(n.summary).toContain('HTTP 500');
    expect(n.next).toContain('curl -X PATCH');
    const body = JSON.parse(noticeBody(n, 'json'));
    expect(body).toMatchObject({
      event: 'failed',
      reason: failed.reason,
      by: 'ana@box',
      time: '2026-01-02T03:04:05.000Z',
    });
  });

  it('without -m the notice says no reason was given', () => {
    const n = rollbackNotice(
      plan,
      { ...failed, failure: undefined, reason: undefined, traffic: 'a → b' },
      'ana@box',
    );
    expect(n.summary).toBe(`manual rollback to ${plan.baseline.tag} by ana@box (no reason given)\na → b`);
  });

  it("a rollout's own notices carry reason and by as null (json keeps one shape)", () => {
    const notice = new NoticeMapper(plan).map({
      type: 'rollout_started',
      at: 1,
      route: plan.route,
      baseline: plan.baseline.tag,
      canary: plan.canary.tag,
      startStage: 0,
    } as never);
    if (!notice) throw new Error('no notice');
    expect(JSON.parse(noticeBody(notice, 'json'))).toMatchObject({ reason: null, by: null });
  });

  it('the step summary of a failure: error and exit code, the reason kept on one line, the hint in a code block', () => {
    const md = rollbackSummary(failed, { GITHUB_ACTOR: 'octo' });
    expect(md).toContain(`## ❌ canary: rollback of \`${plan.route}\` to \`${plan.baseline.tag}\` failed`);
    expect(md).toContain('- **Error:** rollback not confirmed within 60 s: HTTP 500 (exit 4)');
    expect(md).toContain('- **Reason:** bad `answers` see \\| ticket\n');
    expect(md).toContain('- **By:** @octo\n');
    // A fence inside the hint cannot close the block early.
    expect(md).toContain("```\nrestore it by hand:\n  curl -X PATCH … '''\n```");
  });
});
