/**
 * The emulator's data plane: `POST /v1/chat/completions` (relay-api.md, addition). Pinned with
 * `X-Relay-Version`, else served by the route's weights; answered whole or streamed as
 * server-sent events (`stream: true`), with the answer header naming the version that served it.
 *
 * Delays are real time (a client measures the first token with its own clock), kept short by
 * default. These requests are not added to the simulated traffic behind the metrics: an
 * evaluation's few dozen requests would be lost among the simulation's hundreds per second.
 */
import type { ServerResponse } from 'node:http';
import { type AnswerBehaviour, answerText, chance, DEFAULT_ANSWERS, tokenCount } from './answers.js';
import { ApiError, notFound, validation } from './api-error.js';
import type { RelayState } from './relay-state.js';
import type { BehaviourBook } from './scenario.js';
import type { Scenario } from './types.js';

export interface ChatDeps {
  state: RelayState;
  behaviours: BehaviourBook;
  scenario: Scenario;
  seed: number;
  now: () => number;
}

export interface ChatReply {
  status: number;
  headers: Record<string, string>;
  /** Writes the answer (after its delays); resolves when the response has ended. */
  write(res: ServerResponse): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ChatCompletions {
  /** Requests per version and prompt so far, so repeats of one prompt draw their own errors. */
  private readonly counts = new Map<string, number>();
  private served = 0;

  constructor(private readonly deps: ChatDeps) {}

  behaviour(tag: string): AnswerBehaviour {
    const { scenario } = this.deps;
    return { ...DEFAULT_ANSWERS, ...scenario.answers, ...scenario.versions?.[tag]?.answers };
  }

  private pick(route: string): string {
    const routeState = this.deps.state.routes.get(route);
    if (!routeState)
      throw notFound(
        `route ${route} not found (pin a version with X-Relay-Version to ask one without a route)`,
      );
    const rules = routeState.route.route_rules.filter((r) => r.weight > 0);
    let x = chance(this.deps.seed, route, this.served++) * 100;
    for (const rule of rules) {
      x -= rule.weight;
      if (x < 0) return rule.version_tag;
    }
    return (rules[rules.length - 1] ?? routeState.route.route_rules[0])?.version_tag ?? '';
  }

  handle(body: unknown, pinHeader: string | string[] | undefined): ChatReply {
    const { request, maxTokens } = checkRequest(body);
    const pinned = Array.isArray(pinHeader) ? pinHeader[0] : pinHeader;
    const pinning = this.deps.scenario.data_plane?.pinning ?? 'honour';
    let tag: string;
    if (pinned && pinning !== 'ignore') {
      if (!this.deps.state.versions.has(pinned)) throw notFound(`version ${pinned} not found`);
      tag = pinned;
    } else tag = this.pick(request.model);

    const behaviour = this.behaviour(tag);
    const key = JSON.stringify(request.messages);
    const n = (this.counts.get(`${tag}\u0000${key}`) ?? 0) + 1;
    if (this.counts.size > 50_000) this.counts.clear(); // bounded: a long-lived emulator must not grow
    this.counts.set(`${tag}\u0000${key}`, n);
    const headers: Record<string, string> = pinning === 'no_header' ? {} : { 'x-relay-version': tag };
    this.failUpstream(tag, key, n, behaviour, headers);
    const answer = this.answer(request, tag, key, n, behaviour, maxTokens);
    if (request.stream !== true) return wholeReply(answer, headers);
    const includeUsage =
      (request.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    return streamReply(answer, headers, includeUsage);
  }

  /** The upstream's failures, drawn for this request: rate limited (429), else failed (502). */
  private failUpstream(
    tag: string,
    key: string,
    n: number,
    behaviour: AnswerBehaviour,
    headers: Record<string, string>,
  ): void {
    const seed = this.deps.seed;
    if (chance(seed, tag, key, n, 'rate') < behaviour.rate_limit_rate) {
      throw Object.assign(
        new ApiError(429, 'rate_limit_error', `rate limited upstream for ${tag}; retry after 1 s`),
        {
          headers: { ...headers, 'retry-after': '1' },
        },
      );
    }
    if (chance(seed, tag, key, n, 'error') < behaviour.error_rate) {
      throw Object.assign(new ApiError(502, 'upstream_error', `the upstream provider of ${tag} failed`), {
        headers,
      });
    }
  }

  /** The answer's text (cut at max_tokens), usage and timing, as either reply writes it. */
  private answer(
    request: ChatRequest,
    tag: string,
    key: string,
    n: number,
    behaviour: AnswerBehaviour,
    maxTokens: number | undefined,
  ): Answer {
    let content = answerText({ request, tag, seed: this.deps.seed, behaviour });
    let finish = 'stop';
    if (maxTokens !== undefined && tokenCount(content) > maxTokens) {
      content = content.slice(0, maxTokens * 4);
      finish = 'length';
    }
    const promptTokens = tokenCount(key);
    const completionTokens = tokenCount(content);
    const costPerToken = this.deps.behaviours.resolve(tag, 100, this.deps.now()).cost_per_token;
    return {
      id: `chatcmpl-${tag}-${n}`,
      created: Math.floor(this.deps.now() / 1000),
      model: this.deps.state.versions.get(tag)?.model ?? tag,
      content,
      finish,
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        cost: (promptTokens + completionTokens) * costPerToken,
      },
      ttftMs: behaviour.ttft_ms,
      restMs: behaviour.ms_per_token * completionTokens,
    };
  }
}

type ChatRequest = Record<string, unknown> & { model: string; messages: unknown[] };

/** An answer ready to be written whole or streamed. */
interface Answer {
  id: string;
  created: number;
  model: string;
  content: string;
  finish: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost: number };
  /** Delay before the first token, and over the rest of the answer. */
  ttftMs: number;
  restMs: number;
}

/** The request body as the contract requires it: a model (route alias), messages, max_tokens if any. */
function checkRequest(body: unknown): { request: ChatRequest; maxTokens: number | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw validation(undefined, 'the body must be a JSON object');
  const request = body as Record<string, unknown>;
  if (typeof request.model !== 'string' || request.model === '')
    throw validation('model', 'model (the route alias) is required');
  if (!Array.isArray(request.messages) || request.messages.length === 0)
    throw validation('messages', 'messages must be a non-empty list');
  const maxTokens = request.max_tokens;
  if (maxTokens !== undefined && !(Number.isSafeInteger(maxTokens) && (maxTokens as number) >= 1))
    throw validation('max_tokens', 'max_tokens must be a whole number of at least 1');
  return {
    request: request as ChatRequest,
    maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
  };
}

/** One JSON body, after the whole answer's time. */
function wholeReply(answer: Answer, headers: Record<string, string>): ChatReply {
  const { id, created, model, content, finish, usage } = answer;
  const text = JSON.stringify({
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
    usage,
  });
  return {
    status: 200,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    async write(res) {
      await sleep(answer.ttftMs + answer.restMs);
      res.end(text);
    },
  };
}

/** Server-sent events: a role chunk, the first content after ttft, the rest spread over its time. */
function streamReply(answer: Answer, headers: Record<string, string>, includeUsage: boolean): ChatReply {
  const { id, created, model, content, finish, usage, restMs } = answer;
  const chunk = (
    delta: Record<string, unknown>,
    finishReason: string | null,
    extra?: Record<string, unknown>,
  ) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`;
  return {
    status: 200,
    headers: { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    async write(res) {
      res.write(chunk({ role: 'assistant', content: '' }, null));
      await sleep(answer.ttftMs);
      const pieces = content.match(/[\s\S]{1,48}/g) ?? [content];
      for (const [i, piece] of pieces.entries()) {
        if (i > 0 && restMs > 0) await sleep(restMs / pieces.length);
        if (res.destroyed) return;
        res.write(chunk({ content: piece }, null));
      }
      res.write(chunk({}, finish));
      if (includeUsage)
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
        );
      res.end('data: [DONE]\n\n');
    },
  };
}
