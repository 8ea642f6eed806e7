import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BASELINE, CANARY, type Harness, KEY, ROUTE, startHarness } from './helpers.js';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.emulator.close();
});

const version = (tag: string) => ({
  version_tag: tag,
  model: 'anthropic/claude-sonnet-4-20250514',
  parameters: { temperature: 0.5, max_tokens: 4096 },
  system_prompt: 'You review code.',
  upstream_endpoint: 'anthropic',
  cost_limit_per_request: 0.05,
  metadata: { release_candidate: true },
});

describe('health and auth', () => {
  it('answers health without a key', async () => {
    const res = await h.call('GET', '/health', { key: null });
    expect(res).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it.each([
    ['missing', null],
    ['wrong', 'not-the-key'],
  ])('answers 401 authentication_error with a %s key on every other endpoint', async (_what, key) => {
    for (const [method, path] of [
      ['POST', '/models/versions'],
      ['GET', `/models/versions/${BASELINE}`],
      ['POST', '/routes/traffic'],
      ['PATCH', '/routes/traffic'],
      ['GET', `/routes/traffic/${ROUTE}`],
      ['GET', '/metrics/versions'],
    ] as const) {
      const res = await h.call(method, path, { key, body: method === 'GET' ? undefined : {} });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error.type).toBe('authentication_error');
      expect(JSON.stringify(res.body)).not.toContain(KEY);
    }
  });

  it('protects /_emulator endpoints too', async () => {
    const res = await h.call('GET', '/_emulator/calls', { key: null, origin: true });
    expect(res.status).toBe(401);
  });

  it('rejects a malformed Authorization header', async () => {
    const res = await fetch(`${h.emulator.baseUrl}/models/versions/x`, { headers: { authorization: KEY } });
    expect(res.status).toBe(401);
  });

  it('answers 404 not_found for unknown paths and a hint when /v1 is missing', async () => {
    const unknown = await h.call('GET', '/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.type).toBe('not_found');
    const noPrefix = await h.call('GET', '/models/versions/x', { origin: true });
    expect(noPrefix.status).toBe(404);
    expect(noPrefix.body.error.message).toContain('/v1');
  });
});

describe('versions', () => {
  it('registers, reads back and answers 409 with the stored version', async () => {
    const created = await h.call('POST', '/models/versions', { body: version(CANARY) });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(version(CANARY));
    expect(typeof created.body.version_id).toBe('string');
    expect(created.body.created_at).toBe('2026-11-21T10:00:00Z');

    const read = await h.call('GET', `/models/versions/${CANARY}`);
    expect(read).toMatchObject({ status: 200, body: created.body });

    const again = await h.call('POST', '/models/versions', { body: { ...version(CANARY), model: 'other' } });
    expect(again.status).toBe(409);
    expect(again.body.error.type).toBe('conflict');
    expect(again.body.error.existing).toEqual(created.body);
  });

  it('answers 404 for an unknown version', async () => {
    const res = await h.call('GET', '/models/versions/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.type).toBe('not_found');
  });

  it.each([
    [{ model: 'm' }, 'version_tag'],
    [{ version_tag: 'Upper-Case', model: 'm' }, 'version_tag'],
    [{ version_tag: 'has_underscore', model: 'm' }, 'version_tag'],
    [{ version_tag: 'a'.repeat(65), model: 'm' }, 'version_tag'],
    [{ version_tag: '', model: 'm' }, 'version_tag'],
    [{ version_tag: 42, model: 'm' }, 'version_tag'],
    [{ version_tag: 'ok-tag' }, 'model'],
    [{ version_tag: 'ok-tag', model: 7 }, 'model'],
    [{ version_tag: 'ok-tag', model: 'm', parameters: 'hot' }, 'parameters'],
    [{ version_tag: 'ok-tag', model: 'm', cost_limit_per_request: -1 }, 'cost_limit_per_request'],
  ])('rejects %j with 422 field %s', async (body, field) => {
    const res = await h.call('POST', '/models/versions', { body });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ type: 'validation_error', field });
  });

  it('accepts a 64-character tag', async () => {
    const res = await h.call('POST', '/models/versions', {
      body: { version_tag: 'a'.repeat(64), model: 'm' },
    });
    expect(res.status).toBe(201);
  });

  it('answers 422 validation_error to malformed JSON', async () => {
    const res = await h.call('POST', '/models/versions', { raw: '{"version_tag": ' });
    expect(res.status).toBe(422);
    expect(res.body.error.type).toBe('validation_error');
  });
});

describe('routes', () => {
  beforeEach(async () => {
    await h.registerBoth();
  });

  const rules = (...pairs: [string, unknown][]) =>
    pairs.map(([version_tag, weight]) => ({ version_tag, weight }));

  it('creates, reads and patches a route, bumping the revision on each change', async () => {
    const created = await h.createRoute(5, {
      sticky_sessions: { enabled: true, cookie_name: 'hs_model_version', ttl_seconds: 3600 },
      health_check: {
        enabled: true,
        error_rate_threshold: 0.05,
        latency_p99_threshold_ms: 3000,
        auto_rollback: false,
      },
    });
    expect(created).toMatchObject({
      route_id: ROUTE,
      model_alias: ROUTE,
      revision: 1,
      route_rules: rules([BASELINE, 95], [CANARY, 5]),
      sticky_sessions: { enabled: true, cookie_name: 'hs_model_version', ttl_seconds: 3600 },
      health_check: { enabled: true, auto_rollback: false },
    });

    h.clock.advance(60_000);
    const patched = await h.setWeight(25);
    expect(patched).toEqual({
      status: 'updated',
      route_id: ROUTE,
      route_rules: rules([BASELINE, 75], [CANARY, 25]),
      revision: 2,
      active_version: BASELINE,
      updated_at: '2026-11-21T10:01:00Z',
    });
    const promoted = await h.setWeight(60);
    expect(promoted.revision).toBe(3);
    expect(promoted.active_version).toBe(CANARY);

    const read = await h.call('GET', `/routes/traffic/${ROUTE}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ revision: 3, route_rules: rules([BASELINE, 40], [CANARY, 60]) });
    expect(h.emulator.control.getRoute(ROUTE)?.revision).toBe(3);
  });

  it('does not bump the revision when a PATCH repeats the current weights', async () => {
    await h.createRoute(5);
    expect((await h.setWeight(25)).revision).toBe(2);
    expect((await h.setWeight(25)).revision).toBe(2);
  });

  it('answers 409 for an existing alias and 404 for unknown routes', async () => {
    await h.createRoute(5);
    const dup = await h.call('POST', '/routes/traffic', {
      body: { model_alias: ROUTE, route_rules: rules([BASELINE, 100]) },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.type).toBe('conflict');
    expect((await h.call('GET', '/routes/traffic/nope')).status).toBe(404);
    const patch = await h.call('PATCH', '/routes/traffic', {
      body: { route_id: 'nope', route_rules: rules([BASELINE, 100]) },
    });
    expect(patch.status).toBe(404);
  });

  const invalid: [string, unknown][] = [
    ['no rules', []],
    ['rules not a list', { [BASELINE]: 100 }],
    ['rules missing', undefined],
    ['an unregistered tag', rules([BASELINE, 95], ['never-registered', 5])],
    ['a duplicate tag', rules([BASELINE, 50], [BASELINE, 50])],
    ['weights summing to 99', rules([BASELINE, 94], [CANARY, 5])],
    ['weights summing to 100.01', rules([BASELINE, 95.01], [CANARY, 5])],
    ['three decimals', rules([BASELINE, 94.995], [CANARY, 5.005])],
    ['a negative weight', rules([BASELINE, 105], [CANARY, -5])],
    ['a weight above 100', rules([BASELINE, 100.5], [CANARY, -0.5])],
    ['a string weight', rules([BASELINE, '95'], [CANARY, 5])],
    ['a rule without a tag', [{ weight: 100 }]],
  ];

  it.each(invalid)(
    'rejects %s on create and on patch with 422 field route_rules',
    async (_what, routeRules) => {
      const create = await h.call('POST', '/routes/traffic', {
        body: { model_alias: 'other', route_rules: routeRules },
      });
      expect(create.status).toBe(422);
      expect(create.body.error).toMatchObject({ type: 'validation_error', field: 'route_rules' });
      expect(typeof create.body.error.message).toBe('string');

      await h.createRoute(5);
      const patch = await h.call('PATCH', '/routes/traffic', {
        body: { route_id: ROUTE, route_rules: routeRules },
      });
      expect(patch.status).toBe(422);
      expect(patch.body.error.field).toBe('route_rules');
      expect(h.emulator.control.getRoute(ROUTE)?.revision).toBe(1);
    },
  );

  it('accepts two decimals and a sum within 0.001 of 100', async () => {
    const res = await h.call('POST', '/routes/traffic', {
      body: { model_alias: 'precise', route_rules: rules([BASELINE, 66.67], [CANARY, 33.33]) },
    });
    expect(res.status).toBe(201);
    const single = await h.call('POST', '/routes/traffic', {
      body: { model_alias: 'single', route_rules: rules([BASELINE, 100], [CANARY, 0]) },
    });
    expect(single.status).toBe(201);
  });

  it('requires model_alias and route_id', async () => {
    const create = await h.call('POST', '/routes/traffic', { body: { route_rules: rules([BASELINE, 100]) } });
    expect(create.body.error.field).toBe('model_alias');
    const patch = await h.call('PATCH', '/routes/traffic', { body: { route_rules: rules([BASELINE, 100]) } });
    expect(patch.status).toBe(422);
    expect(patch.body.error.field).toBe('route_id');
  });

  it('validates health_check', async () => {
    const res = await h.call('POST', '/routes/traffic', {
      body: { model_alias: 'x', route_rules: rules([BASELINE, 100]), health_check: { enabled: 'yes' } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.field).toBe('health_check');
  });
});
