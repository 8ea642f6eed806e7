/**
 * What the emulator's data plane (`POST /v1/chat/completions`) answers: deterministic text per
 * version, seed and prompt, shaped by a scenario's `answers:` keys, so an evaluation can pass on
 * a good canary and fail on a bad one without any model behind it.
 *
 * A good answer is on topic: it repeats the prompt's content words (so `contains` expectations
 * written about the prompt's subject hold), and when JSON is asked for (`response_format`) it is
 * JSON, built from the request's json_schema when one is given. Versions phrase the same answer
 * a little differently, so the agreement between two good versions is high but not 1.
 */
import { createHash } from 'node:crypto';

export const ANSWER_STYLES = ['normal', 'terse', 'verbose'] as const;

export interface AnswerBehaviour {
  /** terse: one sentence; verbose: several more. */
  style: (typeof ANSWER_STYLES)[number];
  /** Share of prompts refused ("I can't help with that"). */
  refusal_rate: number;
  /** Share of prompts answered off topic, JSON broken or missing fields: expectations fail. */
  expectation_failure_rate: number;
  /** Time to the first token, ms (real time: the data plane answers as a model would). */
  ttft_ms: number;
  /** Time per further token, ms. */
  ms_per_token: number;
  /** Share of requests that fail upstream (502 upstream_error). */
  error_rate: number;
  /** Share of requests answered 429 rate_limit_error. */
  rate_limit_rate: number;
}

export const DEFAULT_ANSWERS: Readonly<AnswerBehaviour> = Object.freeze({
  style: 'normal',
  refusal_rate: 0,
  expectation_failure_rate: 0,
  ttft_ms: 40,
  ms_per_token: 0.5,
  error_rate: 0,
  rate_limit_rate: 0,
});

/** A deterministic number in [0, 1) for these parts. */
export function chance(...parts: (string | number)[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return digest.readUInt32BE(0) / 4_294_967_296;
}

const STOP = new Set(
  'about above after again against also among because been before being below between both could does doing down during each every from further have having here into itself just more most much must other over same should some such than that their them then there these they this those through under until very what when where which while will with would your yours please tell explain write give make need want using'.split(
    ' ',
  ),
);

export function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join(' ');
    }
  }
  return '';
}

function keywords(text: string): string[] {
  const seen = new Set<string>();
  for (const w of text.match(/[\p{L}\p{N}_-]{4,}/gu) ?? []) {
    const lower = w.toLowerCase();
    if (!STOP.has(lower)) seen.add(w);
    if (seen.size >= 12) break;
  }
  return [...seen];
}

const OPENERS = [
  ['Here is what matters for', 'In short, on'],
  ['The key points about', 'To sum up, regarding'],
  ['Looking at', 'Overall, for'],
];
const FILLER = [
  'Each point above follows from the details you gave.',
  'It is worth checking these against your own constraints before acting on them.',
  'Further context would let me be more specific about the trade-offs involved.',
  'Edge cases deserve a second look, especially where the inputs are unusual.',
  'A short test on real data will confirm whether this holds in your setting.',
];

function textAnswer(prompt: string, tag: string, style: AnswerBehaviour['style']): string {
  const words = keywords(prompt);
  const topic = words.slice(0, 3).join(' ') || 'your question';
  const [open, close] = OPENERS[Math.floor(chance('opener', tag, prompt) * OPENERS.length)] as string[];
  const first = `${open} ${topic}: ${words.length > 0 ? words.join(', ') : 'the question as asked'}.`;
  if (style === 'terse') return first;
  const lines = [
    first,
    `${close} ${topic}, the answer depends on ${words.slice(3, 6).join(' and ') || 'the details'}.`,
  ];
  if (style === 'verbose') lines.push(...FILLER, ...FILLER.slice(0, 3));
  return lines.join(' ');
}

type Schema = {
  type?: unknown;
  properties?: Record<string, Schema>;
  required?: unknown;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  minItems?: number;
};

/** A value that satisfies a (simple) JSON Schema: objects, arrays, enums, strings, numbers. */
function instanceOf(schema: Schema | undefined, words: string[], depth = 0): unknown {
  if (!schema || depth > 6) return null;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = instanceOf(v, words, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () =>
        instanceOf(schema.items, words, depth + 1),
      );
    case 'integer':
      return 3;
    case 'number':
      return 0.8;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return words.slice(0, 4).join(' ') || 'ok';
  }
}

function jsonAnswer(request: Record<string, unknown>, prompt: string, broken: boolean): string {
  const format = request.response_format as { type?: unknown; json_schema?: { schema?: Schema } } | undefined;
  const words = keywords(prompt);
  const schema = format?.type === 'json_schema' ? format.json_schema?.schema : undefined;
  const value = schema
    ? instanceOf(schema, words)
    : { answer: words.join(' ') || 'ok', keywords: words.slice(0, 5) };
  const text = JSON.stringify(value);
  // A model going wrong on structured output: a cut-off object, or a required field missing.
  if (broken)
    return chance('broken-kind', prompt) < 0.5
      ? text.slice(0, Math.max(1, Math.floor(text.length / 2)))
      : '{"note": "see above"}';
  return text;
}

function wantsJson(request: Record<string, unknown>): boolean {
  const t = (request.response_format as { type?: unknown } | undefined)?.type;
  return t === 'json_object' || t === 'json_schema';
}

export const REFUSAL = "I'm sorry, but I can't help with that request.";
const OFF_TOPIC =
  'That is an interesting question. There are many factors to consider, and it depends on the situation.';

/** The answer text a version gives this request, before any max_tokens cut. */
export function answerText(input: {
  request: Record<string, unknown>;
  tag: string;
  seed: number;
  behaviour: AnswerBehaviour;
}): string {
  const { request, tag, seed, behaviour } = input;
  const prompt = lastUserText(request.messages);
  const key = JSON.stringify(request.messages ?? '');
  if (chance(seed, tag, key, 'refuse') < behaviour.refusal_rate) return REFUSAL;
  const broken = chance(seed, tag, key, 'fail') < behaviour.expectation_failure_rate;
  if (wantsJson(request)) return jsonAnswer(request, prompt, broken);
  if (broken) return OFF_TOPIC;
  return textAnswer(prompt, tag, behaviour.style);
}

/** Roughly four characters a token, as tokenizers average on English. */
export function tokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
