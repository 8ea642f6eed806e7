/** `notify:` in a plan: the webhooks told about a rollout's events, read with the walker. */
import { closest, distance } from 'fastest-levenshtein';
import { NOTIFY_EVENTS, type NotifyEvent, type NotifyTarget } from '../domain/plan.js';
import { DEFAULTS, ENV_NAME_PATTERN, KEYS } from './plan-keys.js';
import { checkRelayUrl, type Entry, type PlanReader } from './reader.js';

/** `notify:` a list of webhooks; the URL (a secret) is never echoed in a message. */
export function readNotify(r: PlanReader, entry: Entry | undefined): NotifyTarget[] | undefined {
  if (!entry) return undefined;
  const items = r.items(entry);
  if (items === undefined)
    return r.fail(entry, 'a list of webhooks like [{url_env: SLACK_WEBHOOK_URL, format: slack}]');
  const targets: NotifyTarget[] = [];
  items.forEach((itemEntry) => {
    const { path } = itemEntry;
    const fields = r.mapping(itemEntry, KEYS.notify);
    if (!fields) return;
    let ok = true;
    const urlEntry = r.optional(fields, 'url');
    const urlEnvEntry = r.optional(fields, 'url_env');
    let url: string | undefined;
    let urlEnv: string | undefined;
    if (urlEntry && urlEnvEntry) {
      r.problemAtKey(urlEnvEntry, `${path}: give url or url_env, not both`);
      ok = false;
    } else if (!urlEntry && !urlEnvEntry) {
      r.problem(itemEntry, `${path}: needs url_env (the env var holding the webhook URL) or url`);
      ok = false;
    }
    if (urlEntry) {
      const text = r.text(urlEntry) ?? '';
      if (checkRelayUrl(text) === 'ok' && text !== 'emulator') url = text;
      else {
        r.problem(
          urlEntry,
          `${urlEntry.path}: expected an http(s) webhook URL (prefer url_env: webhook URLs are secrets)`,
        );
        ok = false;
      }
    }
    if (urlEnvEntry) {
      const text = r.text(urlEnvEntry);
      urlEnv = text !== undefined && ENV_NAME_PATTERN.test(text) ? text : undefined;
      if (urlEnv === undefined) {
        // Someone may have pasted the URL itself here, so the value is not echoed.
        r.problem(
          urlEnvEntry,
          `${urlEnvEntry.path}: expected the name of an environment variable like SLACK_WEBHOOK_URL`,
        );
        ok = false;
      }
    }
    let events: NotifyEvent[] = [...NOTIFY_EVENTS];
    const eventsEntry = r.optional(fields, 'events');
    if (eventsEntry) {
      const list = r.items(eventsEntry);
      if (list === undefined || list.length === 0) {
        r.fail(eventsEntry, `a list of events from ${NOTIFY_EVENTS.join(', ')}`);
        ok = false;
      } else {
        events = [];
        list.forEach((eventEntry) => {
          const ePath = eventEntry.path;
          const name = r.text(eventEntry);
          if (name !== undefined && (NOTIFY_EVENTS as readonly string[]).includes(name)) {
            events.push(name as NotifyEvent);
            return;
          }
          const shown = name ?? r.show(eventEntry);
          const guess = name === undefined ? undefined : closest(name, [...NOTIFY_EVENTS]);
          const hint =
            guess !== undefined &&
            name !== undefined &&
            distance(name, guess) <= Math.max(2, Math.floor(guess.length / 3))
              ? `did you mean '${guess}'?`
              : `expected one of ${NOTIFY_EVENTS.join(', ')}`;
          r.problem(eventEntry, `${ePath}: unknown event '${shown}'; ${hint}`);
          ok = false;
        });
      }
    }
    let format: 'slack' | 'json' = 'json';
    const formatEntry = r.optional(fields, 'format');
    if (formatEntry) {
      const v = r.scalar(formatEntry);
      if (v === 'slack' || v === 'json') format = v;
      else {
        r.fail(formatEntry, 'slack or json');
        ok = false;
      }
    }
    const timeoutEntry = r.optional(fields, 'timeout');
    const timeout = r.duration(timeoutEntry, { positive: true });
    if (timeoutEntry && timeout === undefined) ok = false;
    if (!ok) return;
    targets.push({
      ...(url !== undefined ? { url } : {}),
      ...(urlEnv !== undefined ? { urlEnv } : {}),
      events,
      format,
      timeoutMs: timeout ?? DEFAULTS.notifyTimeoutMs,
    });
  });
  return targets.length === items.length ? targets : undefined;
}
