/**
 * Broken plans, each with every problem the validator must report. test/plan/load.test.ts checks
 * the messages and positions; test/plan/json-schema.test.ts checks the JSON Schema against them.
 */
import { MINIMAL, yaml } from './helpers.js';

/** [name, plan text, expected `line:column: message fragment` for every problem, in order]. */
export const BROKEN: Array<[string, string, string[]]> = [
  ['tab indentation', yaml('relay:', '\turl: x'), ['2:1: YAML: Tabs are not allowed as indentation']],
  ['unclosed flow mapping', yaml('relay: {url: x', 'route: r'), ['2:1: YAML: Flow map in block collection']],
  ['duplicate keys', yaml(...MINIMAL, 'route: again'), ['9:1: duplicate key']],
  ['several documents', yaml(...MINIMAL, '---', 'route: r'), ['9:1: a plan is one YAML document']],
  ['empty file', '', ['1:1: the plan is empty']],
  ['only a comment', '# nothing yet\n', ['1:1: the plan is empty']],
  ['a list at the top level', yaml('- 5', '- 100'), ['1:1: expected a mapping with relay, route']],
  ['a scalar at the top level', yaml('hello'), ['1:1: expected a mapping with relay, route']],
  [
    'missing required keys, each at its parent',
    yaml(
      'relay:',
      '  url: https://relay.example.com/v1',
      'baseline:',
      '  version_tag: v1',
      'canary:',
      '  model: m',
    ),
    [
      "1:1: missing required key 'route' at the top level",
      "1:1: missing required key 'stages' at the top level",
      "5:1: missing required key 'version_tag' in canary",
    ],
  ],
  [
    'missing relay.url',
    yaml(...MINIMAL.slice(2), 'relay: {api_key_env: KEY}'),
    ["7:1: missing required key 'url' in relay"],
  ],
  [
    'a required key without a value',
    yaml(...MINIMAL.slice(0, 2), 'route:', ...MINIMAL.slice(3)),
    ['3:1: route: needs a value'],
  ],
  [
    'misspelt key with a suggestion',
    yaml(...MINIMAL, 'analysis:', '  tresholds:', '    error_rate: {max: 0.02}'),
    ["10:3: unknown key 'tresholds' in analysis; did you mean 'thresholds'?"],
  ],
  [
    'kebab-case key suggests the snake_case one',
    yaml(...MINIMAL, 'analysis: {min-requests: 10}'),
    ["9:12: unknown key 'min-requests' in analysis; did you mean 'min_requests'?"],
  ],
  [
    'unknown metric suggests the nearest',
    yaml(...MINIMAL, 'analysis:', '  thresholds:', '    latency_p95_ms: {max: 1}'),
    ["11:5: unknown key 'latency_p95_ms' in analysis.thresholds; did you mean 'latency_p99_ms'?"],
  ],
  [
    'unknown key with nothing close lists the known ones',
    yaml(...MINIMAL, 'colour: red'),
    ["9:1: unknown key 'colour' at the top level; expected one of relay, emulator, route"],
  ],
  [
    'junk duration',
    yaml(...MINIMAL, 'bake: 10 minutes'),
    ["9:7: bake: expected a duration like 30s, 10m or 1h30m, got '10 minutes'"],
  ],
  [
    'bare number as duration',
    yaml(...MINIMAL, 'bake: 600'),
    ['9:7: bake: expected a duration like 30s, 10m or 1h30m, got 600'],
  ],
  [
    'zero interval',
    yaml(...MINIMAL, 'analysis: {interval: 0s}'),
    ["9:22: analysis.interval: expected a duration longer than 0s, got '0s'"],
  ],
  [
    'error_rate threshold above 1',
    yaml(...MINIMAL, 'analysis:', '  thresholds:', '    error_rate: {max: 1.5}'),
    ['11:23: analysis.thresholds.error_rate.max: expected a number between 0 and 1, got 1.5'],
  ],
  [
    'negative latency threshold',
    yaml(...MINIMAL, 'analysis:', '  thresholds:', '    latency_p99_ms: {max: -1}'),
    ['11:27: analysis.thresholds.latency_p99_ms.max: expected a number of at least 0, got -1'],
  ],
  [
    'threshold without max',
    yaml(...MINIMAL, 'analysis:', '  thresholds:', '    cost_per_token: {}'),
    ["11:5: missing required key 'max' in analysis.thresholds.cost_per_token"],
  ],
  [
    'threshold as a bare number',
    yaml(...MINIMAL, 'analysis:', '  thresholds:', '    error_rate: 0.02'),
    ['11:17: analysis.thresholds.error_rate: expected a mapping, got 0.02'],
  ],
  [
    'max_ratio of 0 and a negative max_increase',
    yaml(
      ...MINIMAL,
      'analysis:',
      '  baseline_comparison:',
      '    latency_p99_ms: {max_ratio: 0, max_increase: -5}',
    ),
    [
      '11:33: analysis.baseline_comparison.latency_p99_ms.max_ratio: expected a ratio above 0, got 0',
      '11:50: analysis.baseline_comparison.latency_p99_ms.max_increase: expected a number of at least 0, got -5',
    ],
  ],
  [
    'comparison with neither bound',
    yaml(...MINIMAL, 'analysis:', '  baseline_comparison:', '    error_rate: {}'),
    ['11:17: analysis.baseline_comparison.error_rate: expected max_increase or max_ratio'],
  ],
  [
    'window shorter than interval',
    yaml(...MINIMAL, 'analysis:', '  interval: 30s', '  window: 10s'),
    ['11:11: analysis.window (10s) must be at least analysis.interval (30s)'],
  ],
  [
    'interval longer than the default window',
    yaml(...MINIMAL, 'analysis: {interval: 10m}'),
    ['9:22: analysis.window (5m, the default) must be at least analysis.interval (10m)'],
  ],
  [
    'min_requests 0, failure_limit 1.5, max_metric_errors "3"',
    yaml(...MINIMAL, 'analysis:', '  min_requests: 0', '  failure_limit: 1.5', '  max_metric_errors: "3"'),
    [
      '10:17: analysis.min_requests: expected a whole number of at least 1, got 0',
      '11:18: analysis.failure_limit: expected a whole number of at least 1, got 1.5',
      "12:22: analysis.max_metric_errors: expected a whole number of at least 1, got '3'",
    ],
  ],
  [
    'data_deadline and on_metric_errors',
    yaml(...MINIMAL, 'analysis:', '  data_deadline: 0.5x', '  on_metric_errors: ignore'),
    [
      "10:18: analysis.data_deadline: expected a multiple of the bake like 2x (at least 1x), got '0.5x'",
      "11:21: analysis.on_metric_errors: expected rollback or hold, got 'ignore'",
    ],
  ],
  [
    'weights not ascending',
    yaml(...MINIMAL.slice(0, 7), 'stages: [5, 50, 25, 100]'),
    ['8:17: stages[2]: weights must increase from stage to stage, but 25 follows 50'],
  ],
  [
    'equal weights',
    yaml(...MINIMAL.slice(0, 7), 'stages: [5, 5, 100]'),
    ['8:13: stages[1]: weights must increase from stage to stage, but 5 follows 5'],
  ],
  [
    'last weight not 100',
    yaml(...MINIMAL.slice(0, 7), 'stages: [5, 25, 50]'),
    ['8:17: stages[2]: the last stage must have weight 100 so the rollout ends promoted, got 50'],
  ],
  [
    'weights out of range',
    yaml(...MINIMAL.slice(0, 7), 'stages: [0, 150]'),
    [
      '8:10: stages[0]: expected a percentage above 0 and at most 100, got 0',
      '8:13: stages[1]: expected a percentage above 0 and at most 100, got 150',
    ],
  ],
  [
    'more than two decimals',
    yaml(...MINIMAL.slice(0, 7), 'stages: [5.125, 100]'),
    ['8:10: stages[0]: weights have at most two decimals, got 5.125'],
  ],
  ['no stages', yaml(...MINIMAL.slice(0, 7), 'stages: []'), ['8:9: stages: expected at least one stage']],
  [
    'stages not a list',
    yaml(...MINIMAL.slice(0, 7), 'stages: 5'),
    ['8:9: stages: expected a list of stages like [5, 25, 50, 100]'],
  ],
  [
    'a stage that is neither a weight nor a mapping',
    yaml(...MINIMAL.slice(0, 7), 'stages: [five, 100]'),
    ["8:10: stages[0]: expected a weight like 25 or a mapping like {weight: 25, bake: 10m}, got 'five'"],
  ],
  [
    'stage mapping problems',
    yaml(
      ...MINIMAL.slice(0, 7),
      'stages:',
      '  - {bake: 10m}',
      '  - {weight: 50, bake: 1h, pause: yes, data_deadline: 30m, wait: 5m}',
      '  - {weight: 100}',
    ),
    [
      "9:5: missing required key 'weight' in stages[0]",
      "10:35: stages[1].pause: expected true or false, got 'yes'",
      "10:55: stages[1].data_deadline: the data deadline (30m) must be at least the stage's bake (1h)",
      "10:60: unknown key 'wait' in stages[1]",
    ],
  ],
  [
    'bad version tags',
    yaml(
      ...MINIMAL.slice(0, 4),
      '  version_tag: Claude_V1',
      'canary:',
      '  version_tag: 42',
      MINIMAL[7] as string,
    ),
    [
      "5:16: baseline.version_tag: expected a version tag of lowercase letters, digits and '-' (1-64 characters), got 'Claude_V1'",
      "7:16: canary.version_tag: expected a version tag of lowercase letters, digits and '-' (1-64 characters), got 42",
    ],
  ],
  [
    'baseline and canary the same',
    yaml(...MINIMAL.slice(0, 6), '  version_tag: claude-sonnet-4-5-v1', MINIMAL[7] as string),
    ["7:16: canary.version_tag is the same as baseline.version_tag ('claude-sonnet-4-5-v1')"],
  ],
  [
    'version settings without a model',
    yaml(...MINIMAL, 'baseline2: x').replace(
      '  version_tag: claude-sonnet-4-5-v2',
      '  version_tag: claude-sonnet-4-5-v2\n  system_prompt: hi',
    ),
    [
      '8:3: canary.system_prompt needs canary.model: a version is registered only when the plan gives its model',
      "10:1: unknown key 'baseline2' at the top level; did you mean 'baseline'?",
    ],
  ],
  [
    'cost limit and parameters',
    yaml(
      ...MINIMAL.slice(0, 7),
      '  model: m',
      '  cost_limit_per_request: 0',
      '  parameters: [1, 2]',
      MINIMAL[7] as string,
    ),
    [
      '9:27: canary.cost_limit_per_request: expected a number above 0, got 0',
      '10:15: canary.parameters: expected a mapping, got a list',
    ],
  ],
  [
    'non-JSON parameter values',
    yaml(...MINIMAL.slice(0, 7), '  model: m', '  parameters: {temperature: .nan}', MINIMAL[7] as string),
    [
      '9:29: canary.parameters.temperature: expected a JSON value (string, finite number, true/false or null)',
    ],
  ],
  [
    'bad route',
    yaml(...MINIMAL.slice(0, 2), 'route: code review', ...MINIMAL.slice(3)),
    [
      "3:8: route: expected a route alias of letters, digits, '.', '_' or '-' (1-128 characters), got 'code review'",
    ],
  ],
  [
    'empty route',
    yaml(...MINIMAL.slice(0, 2), 'route: ""', ...MINIMAL.slice(3)),
    ['3:8: route: expected a route alias'],
  ],
  [
    'relay url not http(s)',
    yaml('relay:', '  url: ftp://relay.example.com', ...MINIMAL.slice(2)),
    ['2:8: relay.url: expected `emulator` or an http(s) URL like https://relay.example.com/v1'],
  ],
  [
    'scenario with a real relay',
    yaml(...MINIMAL, 'emulator:', '  scenario: ./s.yaml'),
    ['10:13: emulator.scenario only applies when relay.url is `emulator`'],
  ],
  [
    'emulator numbers',
    yaml('relay: {url: emulator}', ...MINIMAL.slice(2), 'emulator: {rps: 0, seed: -1}'),
    [
      '8:17: emulator.rps: expected a number of requests per second above 0 and at most 100000, got 0',
      '8:26: emulator.seed: expected a whole number from 0 to 4294967295, got -1',
    ],
  ],
  [
    'route_defaults and rollback',
    yaml(
      ...MINIMAL,
      'route_defaults:',
      '  sticky_sessions: {cookie_name: c}',
      '  health_check: {enabled: true, error_rate_threshold: 5}',
      'rollback: {deadline: soon}',
    ),
    [
      "10:3: missing required key 'enabled' in route_defaults.sticky_sessions",
      '11:55: route_defaults.health_check.error_rate_threshold: expected a number between 0 and 1, got 5',
      "12:22: rollback.deadline: expected a duration like 30s, 10m or 1h30m, got 'soon'",
    ],
  ],
  ['unresolved tag', yaml(...MINIMAL, 'bake: !secret 10m'), ['9:7: YAML: Unresolved tag: !secret']],
];
