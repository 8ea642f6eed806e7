/**
 * Webhook notifications (`notify:` in the plan). They are told AFTER the action they report
 * (the `rolled_back` notice goes out once the rollback is confirmed) and sent fire-and-forget:
 * `observe` never waits, so a slow or dead webhook cannot delay a rollback or a promotion.
 * At exit `drain` gives what is still in flight a bounded time, then gives up on it.
 */
import type { Dispatcher } from 'undici';
import type { NotifyEvent, NotifyTarget, Plan } from '../domain/plan.js';
import { formatDuration, formatWeight } from '../format.js';
import type { Io } from '../io.js';
import { toRecord } from '../output/record.js';
import { proxySettings } from '../relay/proxy.js';
import { proxiedAgent } from '../relay/undici-transport.js';
import type { RolloutEvent } from '../rollout/events.js';

export interface ResolvedTarget {
  url: string;
  /** What messages show instead of the URL: `https://hooks.slack.com/…`. */
  display: string;
  events: NotifyEvent[];
  format: 'slack' | 'json';
  timeoutMs: number;
}

/** Webhook URLs are secrets (the path is the credential): keep the origin, hide the rest. */
export function redactUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '[webhook URL]';
  }
}

/**
 * Reads each target's URL (from the plan or its env var), registers it as a secret so no output
 * can show it, and warns about the ones that cannot be used. Never fails the rollout.
 */
export function resolveTargets(targets: NotifyTarget[] | undefined, io: Io): ResolvedTarget[] {
  const out: ResolvedTarget[] = [];
  (targets ?? []).forEach((t, index) => {
    const url = t.url ?? (t.urlEnv ? io.env[t.urlEnv]?.trim() : undefined);
    if (!url) {
      io.stderr.write(`warning: notify[${index}]: ${t.urlEnv} is not set; this webhook is skipped.\n`);
      return;
    }
    io.addSecret(url);
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      io.stderr.write(`warning: notify[${index}]: ${t.urlEnv ?? 'url'} is not an http(s) URL; skipped.\n`);
      return;
    }
    out.push({ url, display: redactUrl(url), events: t.events, format: t.format, timeoutMs: t.timeoutMs });
  });
  return out;
}

export interface Notice {
  event: NotifyEvent;
  route: string;
  baseline: string;
  canary: string;
  /** 1-based stage, when the notice is about one. */
  stage?: number | undefined;
  stageCount: number;
  weight?: number | undefined;
  outcome?: string | undefined;
  summary?: string | undefined;
  next?: string | undefined;
  /** A manual `canary rollback`'s `-m` and who ran it (src/commands/rollback-notify.ts). */
  reason?: string | undefined;
  by?: string | undefined;
  at: number;
}

/** Turns the engine's events into notices; keeps the little state the mapping needs. */
export class NoticeMapper {
  private rolledBack = false;
  private stageCount = 0;

  constructor(private readonly plan: Pick<Plan, 'route' | 'baseline' | 'canary' | 'stages'>) {
    this.stageCount = plan.stages.length;
  }

  map(event: RolloutEvent): Notice | undefined {
    const base = {
      route: this.plan.route,
      baseline: this.plan.baseline.tag,
      canary: this.plan.canary.tag,
      stageCount: this.stageCount,
      at: event.at,
    };
    switch (event.type) {
      case 'rollout_started':
        return { ...base, event: 'started', stage: event.startStage + 1 };
      case 'stage_passed':
        return { ...base, event: 'stage_passed', stage: event.stage + 1, weight: event.weight };
      case 'paused':
        return { ...base, event: 'paused', stage: event.stage + 1, weight: event.weight };
      case 'rolled_back':
        this.rolledBack = true;
        return undefined;
      case 'rollout_finished': {
        const kind: NotifyEvent | undefined =
          event.outcome === 'promoted'
            ? 'promoted'
            : event.outcome === 'rolled_back' || (event.outcome === 'interrupted' && this.rolledBack)
              ? 'rolled_back'
              : event.outcome === 'held'
                ? undefined
                : 'failed';
        if (!kind) return undefined;
        return { ...base, event: kind, outcome: event.outcome, summary: event.summary, next: event.next };
      }
      default:
        return undefined;
    }
  }
}

const HEADLINES: Record<NotifyEvent, string> = {
  started: 'rollout started',
  stage_passed: 'stage passed',
  paused: 'waiting for approval',
  promoted: 'promoted',
  rolled_back: 'rolled back',
  failed: 'needs attention',
};

export function noticeText(n: Notice): string {
  const stage = n.stage !== undefined ? ` · stage ${n.stage}/${n.stageCount}` : '';
  const weight = n.weight !== undefined ? ` · canary ${formatWeight(n.weight)}` : '';
  let text = `canary ${n.route}: ${HEADLINES[n.event]}${stage}${weight} (${n.baseline} → ${n.canary})`;
  if (n.summary) text += `\n${n.summary}`;
  if (n.next) text += `\nnext: ${n.next}`;
  return text;
}

export function noticeBody(n: Notice, format: 'slack' | 'json'): string {
  if (format === 'slack') return JSON.stringify({ text: noticeText(n) });
  // The one record writer (docs/events.md): a `notification` record, `type` and `version` first.
  return JSON.stringify(
    toRecord('notification', {
      event: n.event,
      route: n.route,
      stage: n.stage ?? null,
      stage_count: n.stageCount,
      weight: n.weight ?? null,
      outcome: n.outcome ?? null,
      baseline: n.baseline,
      canary: n.canary,
      summary: n.summary ?? null,
      next: n.next ?? null,
      reason: n.reason ?? null,
      by: n.by ?? null,
      time: new Date(n.at).toISOString(),
      text: noticeText(n),
    }),
  );
}

export interface NotifierOptions {
  /** Attempts per notice (default 3): network errors, 429 and 5xx are retried. */
  attempts?: number;
  /** First retry delay (default 500 ms), doubled each time. */
  backoffMs?: number;
  userAgent?: string;
}

export class Notifier {
  private readonly agent: Dispatcher;
  private readonly pending = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly mapper: NoticeMapper;

  constructor(
    private readonly targets: ResolvedTarget[],
    plan: Pick<Plan, 'route' | 'baseline' | 'canary' | 'stages'>,
    private readonly io: Io,
    private readonly options: NotifierOptions = {},
  ) {
    this.mapper = new NoticeMapper(plan);
    const longest = Math.max(1_000, ...targets.map((t) => t.timeoutMs));
    const agentOptions = {
      connect: { timeout: longest },
      headersTimeout: longest,
      bodyTimeout: longest,
      keepAliveTimeout: 1_000,
    };
    // Webhooks go through HTTPS_PROXY / HTTP_PROXY like every other call (src/relay/proxy.ts).
    this.agent = proxiedAgent(agentOptions, proxySettings(io.env));
  }

  /** Called with every event; returns at once. */
  observe(event: RolloutEvent): void {
    if (this.targets.length === 0) return;
    let notice: Notice | undefined;
    try {
      notice = this.mapper.map(event);
    } catch {
      return;
    }
    if (notice) this.announce(notice);
  }

  /** Sends one notice to every target that asked for its event; returns at once. */
  announce(notice: Notice): void {
    for (const target of this.targets) {
      if (!target.events.includes(notice.event)) continue;
      const sent: Promise<void> = this.send(target, notice).finally(() => this.pending.delete(sent));
      this.pending.add(sent);
    }
  }

  private async send(target: ResolvedTarget, notice: Notice): Promise<void> {
    const attempts = this.options.attempts ?? 3;
    const body = noticeBody(notice, target.format);
    const url = new URL(target.url);
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.stop.signal.aborted) return;
      try {
        const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(target.timeoutMs)]);
        const res = await this.agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': this.options.userAgent ?? 'canary',
          },
          body,
          signal,
        });
        await res.body.dump().catch(() => {});
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        last = `HTTP ${res.statusCode}`;
        if (res.statusCode !== 429 && res.statusCode < 500) break; // the webhook refused it: retrying will not help
      } catch (error) {
        if (this.stop.signal.aborted) return;
        last =
          error instanceof Error && error.name === 'TimeoutError'
            ? `no answer within ${formatDuration(target.timeoutMs)}`
            : errorText(error);
      }
      if (attempt < attempts) {
        const delay = (this.options.backoffMs ?? 500) * 2 ** (attempt - 1);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.stop.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    this.warn(`notify ${target.display} (${notice.event}) failed: ${last}`);
  }

  private warn(text: string): void {
    try {
      this.io.stderr.write(`warning: ${this.io.redact(text)}\n`);
    } catch {
      // Never throw out of a notification.
    }
  }

  /**
   * Waits at most `maxMs` for notices in flight, then abandons them (saying so) and closes.
   * `cut` (a stop signal once the run's outcome is decided) ends the wait at once: what is still
   * in flight is abandoned without the warning, since the caller says it in its last lines.
   */
  async drain(maxMs: number, cut?: AbortSignal): Promise<DrainResult> {
    let result: DrainResult = { undelivered: 0, cutShort: false };
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      let onCut: (() => void) | undefined;
      const ended = await Promise.race([
        Promise.allSettled([...this.pending]).then(() => 'delivered' as const),
        new Promise<'timed_out'>((resolve) => {
          timer = setTimeout(() => resolve('timed_out'), maxMs);
        }),
        new Promise<'cut'>((resolve) => {
          if (!cut) return;
          onCut = () => resolve('cut');
          if (cut.aborted) onCut();
          else cut.addEventListener('abort', onCut, { once: true });
        }),
      ]);
      clearTimeout(timer);
      if (onCut) cut?.removeEventListener('abort', onCut);
      const undelivered = ended === 'delivered' ? 0 : this.pending.size;
      result = { undelivered, cutShort: ended === 'cut' };
      if (ended === 'timed_out') {
        this.warn(`${notices(undelivered)} not delivered within ${formatDuration(maxMs)} at exit; given up`);
      }
    }
    this.stop.abort();
    await this.agent.destroy().catch(() => {});
    return result;
  }
}

/** How a drain ended: notices given up on, and whether a stop signal (not the bound) ended it. */
export interface DrainResult {
  undelivered: number;
  cutShort: boolean;
}

/** "1 webhook notice", "2 webhook notices": for the lines that say what was not delivered. */
export function notices(count: number): string {
  return `${count} webhook notice${count === 1 ? '' : 's'}`;
}

/** What a stop signal cut, for the line that names it: the drain's notices given up, or nothing. */
export function cutText(drained: DrainResult | undefined): string {
  return drained?.cutShort && drained.undelivered > 0
    ? `webhook delivery cut short, ${notices(drained.undelivered)} not delivered`
    : 'nothing was left to cut short';
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
