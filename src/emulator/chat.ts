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

    let content = answerText({ request, tag, seed, behaviour });
    let finish = 'stop';
    const limit = typeof maxTokens === 'number' ? maxTokens : undefined;
    if (limit !== undefined && tokenCount(content) > limit) {
      content = content.slice(0, limit * 4);
      finish = 'length';
    }
    const promptTokens = tokenCount(key);
    const completionTokens = tokenCount(content);
    const costPerToken = this.deps.behaviours.resolve(tag, 100, this.deps.now()).cost_per_token;
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      cost: (promptTokens + completionTokens) * costPerToken,
    };
    const model = this.deps.state.versions.get(tag)?.model ?? tag;
    const id = `chatcmpl-${tag}-${n}`;
    const created = Math.floor(this.deps.now() / 1000);
    const stream = request.stream === true;
    const includeUsage =
      (request.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const restMs = behaviour.ms_per_token * completionTokens;

    if (!stream) {
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
          await sleep(behaviour.ttft_ms + restMs);
          res.end(text);
        },
      };
    }
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
        await sleep(behaviour.ttft_ms);
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
}
