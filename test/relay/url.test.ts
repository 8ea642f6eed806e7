import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { isLoopbackHost, parseBaseUrl } from '../../src/relay/url.js';

describe('parseBaseUrl', () => {
  it('normalises away trailing slashes and gives no warning for /v1', () => {
    expect(parseBaseUrl('https://relay.example.com/v1/')).toEqual({
      baseUrl: 'https://relay.example.com/v1',
      warning: undefined,
    });
    expect(parseBaseUrl('  https://relay.example.com/api/v1  ').baseUrl).toBe(
      'https://relay.example.com/api/v1',
    );
  });

  it('accepts a URL without /v1 but warns with the likely fix', () => {
    const parsed = parseBaseUrl('https://relay.example.com');
    expect(parsed.baseUrl).toBe('https://relay.example.com');
    expect(parsed.warning).toContain('does not end in /v1');
    expect(parsed.warning).toContain('https://relay.example.com/v1');
  });

  it('refuses schemes other than http and https', () => {
    expect(() => parseBaseUrl('ftp://relay.example.com/v1')).toThrow(UsageError);
    expect(() => parseBaseUrl('ftp://relay.example.com/v1')).toThrow(/https.*not ftp/);
  });

  it('refuses something that is not a URL', () => {
    expect(() => parseBaseUrl('relay.example.com/v1')).toThrow(/not a valid URL/);
  });

  it('allows plain http only to loopback hosts', () => {
    for (const url of [
      'http://127.0.0.1:8080/v1',
      'http://127.5.6.7/v1',
      'http://localhost:3000/v1',
      'http://[::1]:9/v1',
    ]) {
      expect(parseBaseUrl(url).baseUrl).toBe(url);
    }
    expect(() => parseBaseUrl('http://relay.example.com/v1')).toThrow(UsageError);
    expect(() => parseBaseUrl('http://10.0.0.5/v1')).toThrow(/--allow-insecure-http/);
    expect(() => parseBaseUrl('http://128.0.0.1/v1')).toThrow(/--allow-insecure-http/);
    expect(parseBaseUrl('http://relay.example.com/v1', { allowInsecureHttp: true }).baseUrl).toBe(
      'http://relay.example.com/v1',
    );
  });

  it('refuses credentials in the URL without echoing them', () => {
    try {
      parseBaseUrl('https://user:sk-secret-in-url@relay.example.com/v1');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      const e = error as UsageError;
      expect(e.message).toContain('credentials');
      expect(`${e.message} ${e.hint}`).not.toContain('sk-secret-in-url');
    }
  });

  it('does not echo credentials of an unparsable URL either', () => {
    try {
      parseBaseUrl('https://user:sk-secret-in-url@ bad host/v1');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('sk-secret-in-url');
    }
  });

  it('refuses query strings and fragments', () => {
    expect(() => parseBaseUrl('https://relay.example.com/v1?x=1')).toThrow(/query string/);
  });
});

describe('isLoopbackHost', () => {
  it('knows the loopback names', () => {
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost.example.com')).toBe(false);
    expect(isLoopbackHost('127.example.com')).toBe(false);
    expect(isLoopbackHost('127.0.0.256')).toBe(false);
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(isLoopbackHost('[::2]')).toBe(false);
  });

  it('agrees with the URL parser on spellings of a loopback address', () => {
    for (const [url, loopback] of [
      ['http://127.1/v1', true],
      ['http://0x7f.0.0.1/v1', true],
      ['http://[0:0:0:0:0:0:0:1]/v1', true],
      ['http://LOCALHOST/v1', true],
      ['http://app.localhost/v1', true],
      ['http://10.0.0.1/v1', false],
    ] as const) {
      expect(isLoopbackHost(new URL(url).hostname), url).toBe(loopback);
    }
  });
});
