import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plan/load.js';
import { MINIMAL, problemsOf, yaml } from './helpers.js';

const Q = 'sum(x{version_tag="{{version_tag}}"})';

describe('analysis.metrics in a plan', () => {
  it('reads PromQL and HTTP metrics; PromQL ones use analysis.prometheus while the built-ins stay on the relay', () => {
    const plan = parsePlan(
      yaml(
        ...MINIMAL,
        'analysis:',
        '  min_requests: 150',
        '  prometheus: {url: http://prom:9090}',
        '  metrics:',
        `    - {name: ttft_p99_ms, query: '${Q}', max: 2000, max_ratio: 1.5}`,
        '    - name: quality',
        '      http:',
        '        url: https://scores.example.com/s?v={{version_tag}}',
        '        method: post',
        '        headers: {Authorization: {env: SCORES_KEY, prefix: "Bearer "}, Accept: application/json}',
        '        body: {version: "{{version_tag}}"}',
        '        value: $.data.mean',
        '      min: 0.8',
        '      min_requests: 20',
        '      dry_run: true',
      ),
      'plan.yaml',
      { cwd: '/plans' },
    );
    expect(plan.analysis.provider).toBe('relay');
    expect(plan.analysis.prometheus?.url).toBe('http://prom:9090');
    expect(plan.analysis.customMetrics).toEqual([
      {
        name: 'ttft_p99_ms',
        source: { kind: 'prometheus', query: Q },
        rule: { max: 2000, max_ratio: 1.5 },
        minRequests: 150,
        dryRun: false,
      },
      {
        name: 'quality',
        source: {
          kind: 'http',
          url: 'https://scores.example.com/s?v={{version_tag}}',
          method: 'POST',
          headers: [
            { name: 'Authorization', env: 'SCORES_KEY', prefix: 'Bearer ' },
            { name: 'Accept', value: 'application/json' },
          ],
          body: { version: '{{version_tag}}' },
          path: '$.data.mean',
        },
        rule: { min: 0.8 },
        minRequests: 20,
        dryRun: true,
      },
    ]);
  });

  it('refuses secrets, bad sources and rules, each at its line:column', () => {
    expect(
      problemsOf(
        yaml(
          ...MINIMAL,
          'analysis:', // 9
          '  metrics:', // 10
          `    - {name: a, query: 'sum(x)', max: 1}`, // 11
          '    - name: b', // 12
          '      http: {url: "https://u:p@h/x", value: $.v}', // 13
          '      min: 1', // 14
          '    - name: c', // 15
          '      http: {url: "https://h/x?v={{verison}}", value: data.v, headers: {X-Api-Key: abc123}}', // 16
          '      max: 1', // 17
          '    - {name: d, query: q, http: {url: "https://h", value: $.v}, max: 1}', // 18
          '    - {name: Bad-Name, query: x, max: 1}', // 19
          '    - {name: e, query: "{{version_tag}}"}', // 20
          '    - {name: a, query: "{{version_tag}}", max_ratio: 0}', // 21
        ),
      ),
    ).toEqual([
      '11:24: analysis.metrics[0].query: the a query has no {{version_tag}}: without it the canary and the baseline would read the same numbers',
      '13:19: analysis.metrics[1].http.url: no credentials in the URL; send them in a header from {env: VAR}',
      '16:34: analysis.metrics[2].http.url: unknown placeholder {{verison}}; known: {{version_tag}}, {{route}}, {{window}}, {{window_seconds}}, {{start}}, {{end}}, {{start_ms}}, {{end_ms}}',
      '16:55: analysis.metrics[2].http.value: a JSONPath starts with $, like $.data.mean',
      '16:84: analysis.metrics[2].http.headers.X-Api-Key: a credential never goes in a plan; write {env: VAR} (and prefix: "Bearer " if needed)',
      '18:27: analysis.metrics[3]: give query (PromQL) or http, not both',
      "19:14: analysis.metrics[4].name: expected a name of lowercase letters, digits and _, like ttft_p99_ms, got 'Bad-Name'",
      '19:31: analysis.metrics[4].query: the metric query has no {{version_tag}}: without it the canary and the baseline would read the same numbers',
      '20:7: analysis.metrics[5]: needs at least one of min, max, max_ratio, min_ratio, max_increase, max_decrease',
      "21:14: analysis.metrics[6].name: another metric is already named 'a'",
      '21:54: analysis.metrics[6].max_ratio: expected a ratio above 0, e.g. 1.3, got 0',
    ]);
  });

  it('PromQL metrics need analysis.prometheus.url, whatever the provider', () => {
    expect(
      problemsOf(yaml(...MINIMAL, 'analysis:', '  metrics:', `    - {name: a, query: '${Q}', max: 1}`)),
    ).toEqual(['10:3: analysis.metrics: PromQL metrics (query:) need analysis.prometheus.url']);
  });
});
