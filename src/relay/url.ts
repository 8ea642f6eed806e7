import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export interface ParsedBaseUrl {
  /** Normalised, without a trailing slash; every contract path is appended to it. */
  baseUrl: string;
  /** Set when the URL is usable but probably wrong (no `/v1`); the caller prints it. */
  warning: string | undefined;
}

/** Masks `user:password@` so a URL typed with credentials can be echoed in an error. */
function maskUserInfo(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/** Loopback traffic never leaves the machine, so plain http there cannot leak the key. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

/**
 * Checks and normalises the relay base URL. Plain http would send the bearer key in clear
 * text, so it is only accepted for loopback hosts unless the user opts in explicitly.
 */
export function parseBaseUrl(raw: string, options: { allowInsecureHttp?: boolean } = {}): ParsedBaseUrl {
  const input = raw.trim();
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`The relay URL "${maskUserInfo(input)}" is not a valid URL.`, {
      hint: 'Use a full URL such as https://relay.example.com/v1',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(
      `The relay URL must use https (or http on this machine), not ${url.protocol.replace(/:$/, '')}.`,
      { hint: 'Use a URL such as https://relay.example.com/v1' },
    );
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo the URL here: the password part may be the key itself.
    throw new UsageError('The relay URL must not contain credentials (user:password@host).', {
      hint: 'Remove them from the URL and pass the key in RELAY_API_KEY or with --api-key-file.',
    });
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(
      `The relay URL ${url.origin}${url.pathname} must not have a query string or fragment.`,
      { hint: 'Give only the base, e.g. https://relay.example.com/v1' },
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && options.allowInsecureHttp !== true) {
    throw new UsageError(
      `Refusing plain http to ${url.host}: the API key would cross the network unencrypted. Use https, or pass --allow-insecure-http to accept the risk.`,
      { hint: `Try https://${url.host}${url.pathname.replace(/\/+$/, '')}` },
    );
  }
  const path = url.pathname.replace(/\/+$/, '');
  const baseUrl = `${url.origin}${path}`;
  const warning = /\/v1$/.test(path)
    ? undefined
    : `The relay URL ${baseUrl} does not end in /v1; the relay API normally lives under /v1 (e.g. ${baseUrl}/v1). Calls may answer 404.`;
  return { baseUrl, warning };
}

/** True when a base URL lacks the `/v1` suffix the contract expects. */
export function lacksV1(baseUrl: string): boolean {
  return !/\/v1\/?$/.test(baseUrl);
}
