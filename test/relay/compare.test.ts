import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { curlForUpdate } from '../../src/relay/client.js';
import { describeDifferences, diffVersion, sameRules, sameWeights } from '../../src/relay/compare.js';

const stored = {
  version_tag: 'claude-x',
  model: 'anthropic/claude',
  version_id: 'v_1',
  created_at: '2026-11-21T10:00:00Z',
  parameters: { temperature: 0.7, max_tokens: 4096 },
  upstream_endpoint: 'anthropic',
};

describe('diffVersion', () => {
  it('ignores fields the plan does not set and key order', () => {
    expect(
      diffVersion(
        {
          version_tag: 'claude-x',
          model: 'anthropic/claude',
          parameters: { max_tokens: 4096, temperature: 0.7 },
        },
        stored,
      ),
    ).toEqual([]);
  });

  it('names each differing field with both values', () => {
    const diffs = diffVersion(
      {
        version_tag: 'claude-x',
        model: 'anthropic/claude',
        parameters: { temperature: 0.5, max_tokens: 4096, top_p: 0.9 },
        system_prompt: 'hi',
      },
      stored,
    );
    expect(describeDifferences(diffs)).toBe(
      'parameters.temperature (relay 0.7, plan 0.5), parameters.top_p (relay not set, plan 0.9), system_prompt (relay not set, plan "hi")',
    );
  });

  it('counts a parameter the relay has and the plan lacks', () => {
    const diffs = diffVersion(
      { version_tag: 'claude-x', model: 'anthropic/claude', parameters: { temperature: 0.7 } },
      stored,
    );
    expect(diffs.map((d) => d.path)).toEqual(['parameters.max_tokens']);
  });
});

describe('sameRules', () => {
  it('compares tags and weights in any order', () => {
    const a = [
      { version_tag: 'a', weight: 95 },
      { version_tag: 'b', weight: 5 },
    ];
    expect(sameRules(a, [...a].reverse())).toBe(true);
    expect(sameRules(a, [{ version_tag: 'a', weight: 100 }])).toBe(false);
    expect(
      sameRules(a, [
        { version_tag: 'a', weight: 90 },
        { version_tag: 'b', weight: 10 },
      ]),
    ).toBe(false);
  });
});

describe('sameWeights', () => {
  it('counts a tag the rules do not name as 0, within 0.001', () => {
    const a = [
      { version_tag: 'a', weight: 100 },
      { version_tag: 'b', weight: 0 },
    ];
    expect(sameWeights(a, [{ version_tag: 'a', weight: 100 }])).toBe(true);
    expect(sameWeights(a, [{ version_tag: 'a', weight: 99.9995 }])).toBe(true);
    expect(sameWeights(a, [{ version_tag: 'a', weight: 99.99 }])).toBe(false);
    expect(sameWeights(a, [{ version_tag: 'b', weight: 100 }])).toBe(false);
  });
});

describe('curlForUpdate', () => {
  const request = {
    route_id: "it's-prod",
    route_rules: [
      { version_tag: 'stable', weight: 100 },
      { version_tag: 'canary', weight: 0 },
    ],
  };

  it('builds the PATCH with the key as a variable reference', () => {
    const cmd = curlForUpdate('https://relay.example.com/v1/', request);
    expect(cmd).toContain("-X PATCH 'https://relay.example.com/v1/routes/traffic'");
    expect(cmd).toContain('-H "Authorization: Bearer $RELAY_API_KEY"');
    expect(curlForUpdate('https://r/v1', request, 'MY_KEY')).toContain('Bearer $MY_KEY"');
  });

  it.skipIf(process.platform === 'win32')(
    'survives a real shell: the body arrives intact and the variable expands',
    () => {
      const cmd = curlForUpdate('https://relay.example.com/v1', request, 'K');
      // Replace curl with a printer of its arguments to see what the shell hands over.
      const out = execFileSync('sh', ['-c', `curl() { printf '%s\\n' "$@"; }; ${cmd}`], {
        env: { K: 'expanded-key', PATH: process.env.PATH },
        encoding: 'utf8',
      }).split('\n');
      expect(out).toContain('Authorization: Bearer expanded-key');
      expect(JSON.parse(out[out.indexOf('--data') + 1] as string)).toEqual(request);
    },
  );
});
