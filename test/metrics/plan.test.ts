/**
 * The plan's `analysis.provider` and `analysis.prometheus`: defaults, auth, and placeholder
 * checks reported at the placeholder's own line:column.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUERIES } from '../../src/domain/promql.js';
import { parsePlan } from '../../src/plan/load.js';
import { MINIMAL, problemsOf, REPO, yaml } from '../plan/helpers.js';

const parse = (text: string) => parsePlan(text, 'plan.yaml', { cwd: '/plans' });

describe('analysis.provider and analysis.prometheus', () => {
  it('leaves a plan without them as before: the relay provides metrics', () => {
    const plan = parse(yaml(...MINIMAL));
    expect(plan.analysis.provider).toBeUndefined();
    expect(plan.analysis.prometheus).toBeUndefined();
    expect(problemsOf(yaml(...MINIMAL, 'analysis:', '  provider: relay'))).toEqual([]);
  });

  it('needs only the URL: every query gets its default', () => {
    const plan = parse(
      yaml(
        ...MINIMAL,
        'analysis:',
        '  provider: prometheus',
        '  prometheus:',
        '    url: http://prometheus:9090',
      ),
    );
    expect(plan.analysis.provider).toBe('prometheus');
    expect(plan.analysis.prometheus).toEqual({ url: 'http://prometheus:9090', queries: DEFAULT_QUERIES });
  });

  it('takes a query per metric and bearer or basic auth from env var names', () => {
    const plan = parse(
      yaml(
        ...MINIMAL,
        'analysis:',
        '  provider: prometheus',
        '  prometheus:',
        '    url: https://prom.example.com/prometheus',
        '    bearer_token_env: PROM_TOKEN',
        '    queries:',
        `      error_rate: 'sum(rate(errs{tag="{{ version_tag }}"}[{{window}}])) / sum(rate(reqs{tag="{{version_tag}}"}[{{window}}]))'`,
      ),
    );
    expect(plan.analysis.prometheus?.bearerTokenEnv).toBe('PROM_TOKEN');
    expect(plan.analysis.prometheus?.queries.error_rate).toContain('{{ version_tag }}');
    expect(plan.analysis.prometheus?.queries.request_count).toBe(DEFAULT_QUERIES.request_count);

    const basic = parse(
      yaml(
        ...MINIMAL,
        'analysis:',
        '  provider: prometheus',
        '  prometheus: {url: "http://p:9090", username: canary, password_env: PROM_PASSWORD}',
      ),
    );
    expect(basic.analysis.prometheus?.basicAuth).toEqual({
      username: 'canary',
      passwordEnv: 'PROM_PASSWORD',
    });
  });

  it('reports an unknown placeholder at its own line and column, and a query without {{version_tag}}', () => {
    const text = yaml(
      ...MINIMAL, // 8 lines
      'analysis:',
      '  provider: prometheus',
      '  prometheus:',
      '    url: http://prometheus:9090',
      '    queries:',
      `      error_rate: 'sum(rate(x{v="{{version_tag}}"}[{{ windw }}]))'`,
      '      latency_p99_ms: |',
      '        histogram_quantile(0.99,',
      '          sum by (le) (rate(h{r="{{route}}",x="{{foo}}"}[{{window}}])))',
    );
    const problems = problemsOf(text);
    const col = (line: string, needle: string) => line.indexOf(needle) + 1;
    const errorLine = `      error_rate: 'sum(rate(x{v="{{version_tag}}"}[{{ windw }}]))'`;
    const p99Line = '          sum by (le) (rate(h{r="{{route}}",x="{{foo}}"}[{{window}}])))';
    expect(problems).toContain(
      `14:${col(errorLine, '{{ windw }}')}: analysis.prometheus.queries.error_rate: unknown placeholder {{ windw }} in the error_rate query; known: {{version_tag}}, {{route}}, {{window}}`,
    );
    expect(problems).toContain(
      `17:${col(p99Line, '{{foo}}')}: analysis.prometheus.queries.latency_p99_ms: unknown placeholder {{foo}} in the latency_p99_ms query; known: {{version_tag}}, {{route}}, {{window}}`,
    );
    expect(problems).toContain(
      '15:23: analysis.prometheus.queries.latency_p99_ms: the latency_p99_ms query has no {{version_tag}}: without it the canary and the baseline would read the same numbers',
    );
    expect(problems).toHaveLength(3);
  });

  it('refuses what would go wrong later, each at its place', () => {
    const withAnalysis = (...lines: string[]) => problemsOf(yaml(...MINIMAL, 'analysis:', ...lines));
    expect(withAnalysis('  provider: graphite')).toEqual([
      "10:13: analysis.provider: expected relay or prometheus, got 'graphite'",
    ]);
    expect(withAnalysis('  provider: prometheus')).toEqual([
      '10:13: analysis.provider is prometheus but there is no analysis.prometheus.url',
    ]);
    expect(withAnalysis('  prometheus:', '    url: http://p:9090')).toEqual([
      '10:3: analysis.prometheus is only used with analysis.provider: prometheus; add it, or remove this block',
    ]);
    expect(withAnalysis('  provider: prometheus', '  prometheus:', '    bearer_token_env: T')).toEqual([
      "11:3: missing required key 'url' in analysis.prometheus",
    ]);
    expect(withAnalysis('  provider: prometheus', '  prometheus:', '    url: http://user:pw@p:9090')).toEqual(
      [
        '12:10: analysis.prometheus.url: no credentials in the URL; use bearer_token_env, or username and password_env',
      ],
    );
    expect(withAnalysis('  provider: prometheus', '  prometheus:', '    url: ftp://p')).toEqual([
      '12:10: analysis.prometheus.url: expected an http(s) URL like http://prometheus:9090',
    ]);
    // A pasted secret is refused and not echoed.
    const pasted = withAnalysis(
      '  provider: prometheus',
      '  prometheus:',
      '    url: http://p:9090',
      '    bearer_token_env: eyJhbGciOi.secret-token',
    );
    expect(pasted).toEqual([
      '13:23: analysis.prometheus.bearer_token_env: expected the name of an environment variable (not the secret itself)',
    ]);
    expect(pasted.join()).not.toContain('secret-token');
    expect(
      withAnalysis(
        '  provider: prometheus',
        '  prometheus:',
        '    url: http://p:9090',
        '    password: hunter2',
      ),
    ).toEqual([expect.stringMatching(/^13:5: the API key never goes in a plan/)]);
    expect(
      withAnalysis(
        '  provider: prometheus',
        '  prometheus:',
        '    url: http://p:9090',
        '    username: canary',
      ),
    ).toEqual(['13:5: analysis.prometheus.username needs password_env (the env var holding the password)']);
    expect(
      withAnalysis(
        '  provider: prometheus',
        '  prometheus:',
        '    url: http://p:9090',
        '    bearer_token_env: T',
        '    username: canary',
        '    password_env: P',
      ),
    ).toEqual(['13:5: analysis.prometheus: use bearer_token_env or username + password_env, not both']);
    expect(
      withAnalysis(
        '  provider: prometheus',
        '  prometheus:',
        '    url: http://p:9090',
        '    queries:',
        '      latency_p90_ms: x',
      ),
    ).toEqual([
      expect.stringMatching(
        /^14:7: unknown key 'latency_p90_ms' in analysis\.prometheus\.queries; did you mean/,
      ),
    ]);
  });
});

describe('the README', () => {
  it('prints every default query exactly as canary uses it', () => {
    const readme = readFileSync(`${REPO}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('## Metrics from Prometheus'));
    for (const [name, query] of Object.entries(DEFAULT_QUERIES)) {
      expect(section).toContain(`${name}: >-\n        ${query}\n`);
    }
  });
});
