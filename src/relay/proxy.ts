/**
 * Forwarding proxies for every HTTP client canary has (the relay, Prometheus, webhooks):
 * `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`, lower case first, as curl reads them. undici's
 * EnvHttpProxyAgent does the work (which proxy for which URL, NO_PROXY matching, CONNECT for
 * https); this module only reads the variables, so the rollback entry can ask "is a proxy
 * configured?" without loading undici.
 */
export type ProxyEnv = Record<string, string | undefined>;

export interface ProxySettings {
  httpProxy: string | undefined;
  httpsProxy: string | undefined;
  /** '' when unset: an explicit empty list, so undici does not read process.env behind our back. */
  noProxy: string;
  /**
   * Plain http goes to an http proxy as a forwarded request (`GET http://host/path`), the way
   * curl sends it: the proxy sees, logs and may filter each call. https always tunnels (CONNECT).
   */
  proxyTunnel: false;
}

function read(env: ProxyEnv, lower: string, upper: string): string | undefined {
  return env[lower]?.trim() || env[upper]?.trim() || undefined;
}

/** The proxy settings from the environment, or undefined when no proxy is configured. */
export function proxySettings(env: ProxyEnv = process.env): ProxySettings | undefined {
  const httpProxy = read(env, 'http_proxy', 'HTTP_PROXY');
  const httpsProxy = read(env, 'https_proxy', 'HTTPS_PROXY');
  if (httpProxy === undefined && httpsProxy === undefined) return undefined;
  return { httpProxy, httpsProxy, noProxy: read(env, 'no_proxy', 'NO_PROXY') ?? '', proxyTunnel: false };
}

/** A proxy URL as shown in messages: origin only, never a user:password it may carry. */
export function proxyForDisplay(url: string | undefined): string {
  if (url === undefined) return 'the proxy';
  try {
    return `the proxy ${new URL(url).origin}`;
  } catch {
    return 'the proxy (an unreadable proxy URL)';
  }
}

/** The port a proxy URL connects to, to tell the proxy's failures from the relay's. */
export function proxyPort(url: string | undefined): number | undefined {
  if (url === undefined) return undefined;
  try {
    const parsed = new URL(url);
    return Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  } catch {
    return undefined;
  }
}
