import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpMetric } from '../../src/custom-metrics/http-source.js';
import { HTTP_PLACEHOLDERS, placeholderValues } from '../../src/custom-metrics/placeholders.js';
import type { CustomSource } from '../../src/domain/plan.js';
import { undiciTransport } from '../../src/relay/undici-transport.js';

const SECRET = 'score-key-9a8b7c6d';
let server: Server;
let base = '';
const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
let answers: ((req: IncomingMessage) => { status: number; body: string })[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
      const answer = (answers.shift() ?? (() => ({ status: 200, body: '{"data":{"mean":0.82}}' })))(req);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function metric(source: Partial<Extract<CustomSource, { kind: 'http' }>>) {
  return createHttpMetric({
    name: 'quality',
    source: {
      kind: 'http',
      url: `${base}/scores?v={{version_tag}}&from={{start}}`,
      method: 'GET',
      headers: [],
      path: '$.data.mean',
      ...source,
    },
    headers: { authorization: `Bearer ${SECRET}` },
    secrets: [SECRET],
    transport: undiciTransport,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
}
const q = { versionTag: 'v 2', route: 'r', start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 0, 1, 0, 5) };

describe('the placeholders a plan may use', () => {
  it('are the names the source fills, in its order (plans are checked against the written-out list)', () => {
    const filled = placeholderValues({ versionTag: 'v', route: 'r', start: 0, end: 60_000 });
    expect(HTTP_PLACEHOLDERS).toEqual(Object.keys(filled));
  });
});

describe('the HTTP JSON metric source', () => {
  it('GETs with placeholders encoded and the header from env, and picks the number by JSONPath', async () => {
    seen.length = 0;
    const m = metric({});
    expect(await m.read(q)).toEqual({ value: 0.82 });
    await m.close();
    expect(seen[0]).toMatchObject({
      method: 'GET',
      url: '/scores?v=v%202&from=2026-01-01T00%3A00%3A00.000Z',
      auth: `Bearer ${SECRET}`,
    });
  });

  it('POSTs a JSON body with its placeholders filled', async () => {
    seen.length = 0;
    const m = metric({
      method: 'POST',
      url: `${base}/q`,
      body: { filter: { version: '{{version_tag}}', window: '{{window}}' } },
    });
    expect(await m.read(q)).toEqual({ value: 0.82 });
    await m.close();
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ filter: { version: 'v 2', window: '300s' } });
  });

  it('retries a GET on a 503, like the relay client', async () => {
    seen.length = 0;
    answers = [() => ({ status: 503, body: '{}' })];
    const m = metric({});
    expect(await m.read(q)).toEqual({ value: 0.82 });
    await m.close();
    expect(seen).toHaveLength(2);
  });

  it('a path that finds nothing is no data, with the path named; a non-number is a failed read', async () => {
    const m = metric({ path: '$.data.median' });
    const none = await m.read(q);
    expect(none).toEqual({
      value: null,
      note: expect.stringContaining('the JSON path $.data.median found nothing in the answer'),
    });
    answers = [() => ({ status: 200, body: '{"data":{"mean":"high"}}' })];
    const bad = await metric({}).read(q);
    expect(bad).toEqual({ error: 'quality: the JSON path $.data.mean found "high", not a number' });
    await m.close();
  });

  it('an error status or a body that is not JSON is a failed read, and never shows the key', async () => {
    answers = [() => ({ status: 401, body: `{"error":"bad key Bearer ${SECRET}"}` })];
    const m = metric({});
    const denied = await m.read(q);
    expect('error' in denied && denied.error).toMatch(
      /answered HTTP 401 \(check the header credentials named in the plan\)/,
    );
    expect(JSON.stringify(denied)).not.toContain(SECRET);
    answers = [() => ({ status: 200, body: '<html>' })];
    expect(await m.read(q)).toEqual({ error: expect.stringContaining('not JSON') });
    await m.close();
  });
});
