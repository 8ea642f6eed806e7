/**
 * The relay's data plane over HTTP: `POST {base}/chat/completions` pinned with `X-Relay-Version`
 * (relay-api.md, addition). Streamed (`stream: true`) so that the time to the first content
 * chunk can be measured; a relay that answers a streamed request with one JSON body is read too
 * (then there is no time to first token).
 *
 * Its own undici pool rather than the relay client's transport: the transport hands back whole
 * bodies, and a first-token time needs the chunks as they arrive. The limits are the relay
 * client's (connect 10 s; the per-request timeout covers the rest), and so are its proxies
 * (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, src/relay/proxy.ts). The key is sent only in the
 * Authorization header and scrubbed from every message.
 */
import { Agent, type Dispatcher, EnvHttpProxyAgent } from 'undici';
import { formatDuration } from '../format.js';
import { proxySettings } from '../relay/proxy.js';
import { VERSION } from '../version.js';
import type { ChatAnswer, ChatCall, DataPlanePort } from './types.js';

export interface HttpDataPlaneOptions {
  /** The relay's base URL, ending in /v1. */
  baseUrl: string;
  apiKey: string;
  /** Connections at once (the evaluation's concurrency). */
  connections: number;
  /** Monotonic milliseconds. */
  now?: () => number;
}

/** Largest answer read; past it the request counts as failed. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

interface Parsed {
  content: string | null;
  completionTokens: number | null;
  promptTokens: number | null;
  cost: number | null;
  finishReason: string | null;
}

function usageOf(value: unknown): Pick<Parsed, 'completionTokens' | 'promptTokens' | 'cost'> {
  const u = (value ?? {}) as { completion_tokens?: unknown; prompt_tokens?: unknown; cost?: unknown };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
  return {
    completionTokens: num(u.completion_tokens),
    promptTokens: num(u.prompt_tokens),
    cost: num(u.cost),
  };
}

/** A whole (non-streamed) chat completion. */
export function parseCompletion(text: string): Parsed | undefined {
  let body: { choices?: { message?: { content?: unknown }; finish_reason?: unknown }[]; usage?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const choice = body?.choices?.[0];
  const content = choice?.message?.content;
  if (typeof content !== 'string') return undefined;
  return {
    content,
    finishReason: typeof choice?.finish_reason === 'string' ? choice.finish_reason : null,
    ...usageOf(body.usage),
  };
}

/**
 * Reads server-sent events as they arrive: `feed` takes each chunk and says whether content
 * appeared in it (the first time it does is the time to first token).
 */
export class SseReader {
  private buffer = '';
  private content = '';
  private sawContent = false;
  private usage: Pick<Parsed, 'completionTokens' | 'promptTokens' | 'cost'> = {
    completionTokens: null,
    promptTokens: null,
    cost: null,
  };
  private finishReason: string | null = null;
  events = 0;
  error: string | undefined;

  /** True when this chunk completed the first event carrying content. */
  feed(chunk: string): boolean {
    this.buffer += chunk;
    let first = false;
    for (;;) {
      const end = this.buffer.search(/\r?\n\r?\n/);
      if (end < 0) break;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = block
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data === '' || data === '[DONE]') continue;
      this.events++;
      let event: {
        choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
        usage?: unknown;
        error?: { message?: unknown };
      };
      try {
        event = JSON.parse(data);
      } catch {
        this.error = 'the stream held an event that is not JSON';
        continue;
      }
      if (event.error) this.error = String(event.error.message ?? 'error in the stream');
      const choice = event.choices?.[0];
      const piece = choice?.delta?.content;
      if (typeof piece === 'string' && piece.length > 0) {
        if (!this.sawContent) first = true;
        this.sawContent = true;
        this.content += piece;
      }
      if (typeof choice?.finish_reason === 'string') this.finishReason = choice.finish_reason;
      if (event.usage) this.usage = usageOf(event.usage);
    }
    return first;
  }

  result(): Parsed | undefined {
    if (this.events === 0) return undefined;
    return { content: this.content, finishReason: this.finishReason, ...this.usage };
  }
}

function errorOf(text: string, status: number): { message: string; type: string } {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; type?: unknown } };
    if (body?.error) {
      return {
        message: String(body.error.message ?? `HTTP ${status}`).slice(0, 200),
        type: String(body.error.type ?? 'http_error'),
      };
    }
  } catch {
    // Not the contract's error body (a proxy's page): say the status.
  }
  return {
    message: `HTTP ${status}`,
    type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'http_error',
  };
}

export function createHttpDataPlane(
  options: HttpDataPlaneOptions,
): DataPlanePort & { close(): Promise<void> } {
  const plane = openPlane(options);
  return { complete: (call) => complete(plane, call), close: () => plane.agent.close() };
}

/** What every call of one data plane shares: its pool, where it posts, the key to hide. */
interface Plane {
  agent: Dispatcher;
  origin: string;
  path: string;
  key: string;
  scrub: (text: string) => string;
  now: () => number;
}

function openPlane(options: HttpDataPlaneOptions): Plane {
  const base = new URL(options.baseUrl);
  const key = options.apiKey;
  const agentOptions = {
    connect: { timeout: 10_000 },
    connections: Math.max(1, options.connections),
    keepAliveTimeout: 10_000,
    // The per-request timeout bounds the whole call; these only stop undici's own defaults
    // from cutting a slow model's answer short first.
    headersTimeout: 0,
    bodyTimeout: 0,
  };
  // The same proxy choice as the relay client's transport, so the evaluation reaches the relay
  // by the route the rollout's own calls take.
  const proxy = proxySettings();
  const agent = proxy
    ? new EnvHttpProxyAgent({ ...agentOptions, ...proxy } as EnvHttpProxyAgent.Options)
    : new Agent(agentOptions);
  return {
    agent,
    origin: base.origin,
    path: `${base.pathname.replace(/\/+$/, '')}/chat/completions`,
    key,
    scrub: (text) => (key.length >= 4 ? text.split(key).join('[REDACTED]') : text),
    now: options.now ?? (() => performance.now()),
  };
}

/** A call that got no answer to use, as the evaluation counts it. */
type Failed = (error: string, errorType: string, status?: number, servedBy?: string) => ChatAnswer;

/** One pinned chat completion; every failure but the caller's own abort is an answer. */
async function complete(plane: Plane, call: ChatCall): Promise<ChatAnswer> {
  const started = plane.now();
  const deadline = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, deadline]) : deadline;
  const body = JSON.stringify({
    ...call.request,
    model: call.route,
    ...(call.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
  const failed: Failed = (error, errorType, status = 0, servedBy) => ({
    status,
    servedBy,
    content: null,
    completionTokens: null,
    promptTokens: null,
    cost: null,
    latencyMs: plane.now() - started,
    ttftMs: null,
    finishReason: null,
    error: plane.scrub(error),
    errorType,
  });
  try {
    const res = await plane.agent.request({
      origin: plane.origin,
      path: plane.path,
      method: 'POST',
      headers: {
        authorization: `Bearer ${plane.key}`,
        'content-type': 'application/json',
        accept: call.stream ? 'text/event-stream, application/json' : 'application/json',
        'user-agent': `canary/${VERSION}`,
        'x-relay-version': call.version,
      },
      body,
      signal,
    });
    return await readAnswer(plane, res, started, failed);
  } catch (error) {
    if (call.signal?.aborted) throw call.signal.reason;
    if (deadline.aborted)
      return failed(`no complete answer within ${formatDuration(call.timeoutMs)}`, 'timeout');
    const code = (error as { code?: unknown })?.code;
    return failed(
      `${error instanceof Error ? error.message : String(error)}${typeof code === 'string' ? ` (${code})` : ''}`,
      'network_error',
    );
  }
}

/**
 * The answer as it arrives: a stream is read event by event (the first content is the time to
 * first token), anything else whole; an error status, an error event or a body that is not a
 * chat completion is a failure.
 */
async function readAnswer(
  plane: Plane,
  res: Dispatcher.ResponseData,
  started: number,
  failed: Failed,
): Promise<ChatAnswer> {
  const servedHeader = res.headers['x-relay-version'];
  const servedBy = Array.isArray(servedHeader) ? servedHeader[0] : servedHeader;
  const type = String(res.headers['content-type'] ?? '');
  const sse = new SseReader();
  const streamed = type.includes('text/event-stream');
  let ttftMs: number | null = null;
  let text = '';
  let size = 0;
  res.body.setEncoding('utf8');
  for await (const chunk of res.body as AsyncIterable<string>) {
    size += Buffer.byteLength(chunk);
    if (size > MAX_ANSWER_BYTES) {
      res.body.destroy();
      return failed(
        `the answer is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`,
        'invalid_response',
        res.statusCode,
        servedBy,
      );
    }
    if (streamed && res.statusCode < 300) {
      if (sse.feed(chunk) && ttftMs === null) ttftMs = plane.now() - started;
    } else text += chunk;
  }
  const latencyMs = plane.now() - started;
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const e = errorOf(text, res.statusCode);
    return failed(e.message, e.type, res.statusCode, servedBy);
  }
  // An error event mid-stream: the answer is cut short, which a user would have seen fail.
  if (streamed && sse.error) return failed(sse.error, 'upstream_error', res.statusCode, servedBy);
  const parsed = streamed ? sse.result() : parseCompletion(text);
  if (!parsed) {
    return failed(
      streamed
        ? 'the stream ended without an answer'
        : 'the answer is not a chat completion with choices[0].message.content',
      'invalid_response',
      res.statusCode,
      servedBy,
    );
  }
  return {
    status: res.statusCode,
    servedBy,
    ...parsed,
    latencyMs,
    ttftMs: streamed ? ttftMs : null,
  };
}
