import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  rateLimitDelay,
  retryDelay,
} from '../../src/relay/retry.js';

const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
const zero = () => 0;
const one = () => 0.999999;

describe('backoffDelay', () => {
  it('doubles the step and caps it, half fixed and half jitter', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, zero))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, one))).toEqual([100, 200, 400, 800, 1000]);
  });

  it('stays within [step/2, step] for any jitter value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ noNaN: false }), (n, r) => {
        const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
        const d = backoffDelay(n, policy, () => r);
        return d >= step / 2 && d <= step;
      }),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 10, 21, 10, 0, 0);
  it('reads delta seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1_500);
    expect(parseRetryAfter('0', now)).toBe(0);
  });
  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter(new Date(now + 12_000).toUTCString(), now)).toBe(12_000);
    expect(parseRetryAfter(new Date(now - 5_000).toUTCString(), now)).toBe(0);
  });
  it('gives up on junk so backoff applies', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });
});

describe('rateLimitDelay', () => {
  it('waits at least what was asked, plus bounded jitter, capped', () => {
    expect(rateLimitDelay(7_000, policy, zero)).toBe(7_000);
    expect(rateLimitDelay(7_000, policy, one)).toBeLessThanOrEqual(7_000 + policy.retryAfterJitterMs);
    expect(rateLimitDelay(3_600_000, policy, zero)).toBe(policy.maxRetryAfterMs);
  });
});

describe('retryDelay (the contract rules)', () => {
  const resp = (status: number, retryAfterMs?: number) =>
    ({ kind: 'response', status, retryAfterMs }) as const;
  const net = (code: string, responded: boolean) => ({ kind: 'network', code, responded }) as const;

  it('retries GET on 429 (honouring Retry-After) and 5xx; PATCH on 429 only', () => {
    for (const m of ['GET', 'PATCH'] as const) {
      expect(retryDelay(m, resp(429, 4_000), 1, policy, zero)).toBe(4_000);
      expect(retryDelay(m, resp(429), 1, policy, zero)).toBe(50);
    }
    expect(retryDelay('GET', resp(503), 2, policy, zero)).toBe(100);
    expect(retryDelay('GET', resp(500), 1, policy, zero)).toBeDefined();
    // After a 5xx the PATCH may have landed: the caller reads the route back first (the contract).
    expect(retryDelay('PATCH', resp(503), 1, policy, zero)).toBeUndefined();
  });

  it('retries a PATCH only where nothing can have been sent', () => {
    for (const code of ['ECONNREFUSED', 'CONNECT_TIMEOUT', 'EHOSTUNREACH'])
      expect(retryDelay('PATCH', net(code, false), 1, policy, zero)).toBe(50);
    for (const code of ['ECONNRESET', 'SOCKET_CLOSED', 'HEADERS_TIMEOUT', 'BODY_TIMEOUT'])
      expect(retryDelay('PATCH', net(code, false), 1, policy, zero)).toBeUndefined();
  });

  it('retries a GET whose 2xx body was malformed, never a PATCH or POST', () => {
    expect(retryDelay('GET', { kind: 'malformed', status: 200 }, 1, policy, zero)).toBe(50);
    expect(retryDelay('PATCH', { kind: 'malformed', status: 200 }, 1, policy, zero)).toBeUndefined();
    expect(retryDelay('POST', { kind: 'malformed', status: 201 }, 1, policy, zero)).toBeUndefined();
  });

  it('never retries other statuses', () => {
    for (const s of [400, 401, 404, 409, 422])
      expect(retryDelay('GET', resp(s), 1, policy, zero)).toBeUndefined();
  });

  it('never retries a POST that got a 5xx answer, but waits out a 429', () => {
    expect(retryDelay('POST', resp(429, 1_000), 1, policy, zero)).toBe(1_000);
    expect(retryDelay('POST', resp(503), 1, policy, zero)).toBeUndefined();
    expect(retryDelay('POST', net('BODY_TIMEOUT', true), 1, policy, zero)).toBeUndefined();
  });

  it('retries a POST when no response arrived', () => {
    for (const code of [
      'ECONNREFUSED',
      'ECONNRESET',
      'SOCKET_CLOSED',
      'HEADERS_TIMEOUT',
      'CONNECT_TIMEOUT',
    ]) {
      expect(retryDelay('POST', net(code, false), 1, policy, zero)).toBe(50);
    }
  });

  it('does not retry failures that will not heal', () => {
    for (const code of ['ENOTFOUND', 'CERT_HAS_EXPIRED', 'UND_ERR_INVALID_ARG']) {
      expect(retryDelay('GET', net(code, false), 1, policy, zero)).toBeUndefined();
    }
  });

  it('retries a GET whose answer was broken (truncated, oversized), like a malformed one', () => {
    for (const code of ['BAD_RESPONSE', 'BODY_TOO_LARGE']) {
      expect(retryDelay('GET', net(code, true), 1, policy, zero)).toBe(50);
      expect(retryDelay('PATCH', net(code, true), 1, policy, zero)).toBeUndefined();
    }
  });
});
