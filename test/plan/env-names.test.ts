/**
 * Every plan key that names an environment variable holding a secret: a value that is not a name
 * may be the secret itself, pasted in, so the problem says what was expected and never echoes it.
 */
import { describe, expect, it } from 'vitest';
import { MINIMAL, problemsOf, yaml } from './helpers.js';

const SECRET = 'sk-live-12345-do-not-print';
const base = MINIMAL.filter((line) => !line.startsWith('relay:') && !line.startsWith('  url:'));

const cases: [string, string[], string][] = [
  [
    'relay.api_key_env',
    ['relay:', '  url: https://relay.example.com/v1', `  api_key_env: "${SECRET}"`, ...base],
    '3:16: relay.api_key_env: expected the name of an environment variable like RELAY_API_KEY (not the key itself)',
  ],
  [
    'notify[].url_env',
    [...MINIMAL, 'notify:', `  - url_env: "https://hooks.example.com/${SECRET}"`],
    '10:14: notify[0].url_env: expected the name of an environment variable like SLACK_WEBHOOK_URL',
  ],
  [
    'analysis.prometheus.bearer_token_env',
    [
      ...MINIMAL,
      'analysis:',
      '  provider: prometheus',
      '  prometheus:',
      '    url: https://prom.example.com',
      `    bearer_token_env: "${SECRET}"`,
    ],
    '13:23: analysis.prometheus.bearer_token_env: expected the name of an environment variable (not the secret itself)',
  ],
  [
    'analysis.metrics[].http.headers.*.env',
    [
      ...MINIMAL,
      'analysis:',
      '  metrics:',
      '    - name: score',
      '      http:',
      '        url: https://scores.example.com/x?v={{version_tag}}',
      '        value: $.v',
      `        headers: {Authorization: {env: "${SECRET}", prefix: "Bearer "}}`,
      '      min: 1',
    ],
    '15:40: analysis.metrics[0].http.headers.Authorization.env: expected the name of an environment variable (not the secret itself)',
  ],
];

describe('keys naming an environment variable', () => {
  it.each(cases)(
    '%s: a pasted secret is refused at its line:column and never echoed',
    (_key, lines, expected) => {
      const problems = problemsOf(yaml(...lines));
      expect(problems, problems.join('\n')).toContain(expected);
      expect(problems.join('\n')).not.toContain('12345');
    },
  );
});
