/** `notify:` in a plan: the webhooks told about a rollout's events, read with the walker. */
import { closest, distance } from 'fastest-levenshtein';
import { NOTIFY_EVENTS, type NotifyEvent, type NotifyTarget } from '../domain/plan.js';
import { DEFAULTS, KEYS } from './plan-keys.js';
import { checkRelayUrl, type Entry, type Fields, type PlanReader } from './reader.js';

/** `notify:` a list of webhooks; the URL (a secret) is never echoed in a message. */
export function readNotify(r: PlanReader, entry: Entry | undefined): NotifyTarget[] | undefined {
  if (!entry) return undefined;
  const items = r.items(entry);
  if (items === undefined)
    return r.fail(entry, 'a list of webhooks like [{url_env: SLACK_WEBHOOK_URL, format: slack}]');
  const targets: NotifyTarget[] = [];
  for (const itemEntry of items) {
    const target = readTarget(r, itemEntry);
    if (target) targets.push(target);
  }
  return targets.length === items.length ? targets : undefined;
}

/** One webhook; undefined when a problem was reported. */
function readTarget(r: PlanReader, itemEntry: Entry): NotifyTarget | undefined {
  const fields = r.mapping(itemEntry, KEYS.notify);
  if (!fields) return undefined;
  const destination = readDestination(r, itemEntry, fields);
  const events = readEvents(r, fields);
  const formatEntry = r.optional(fields, 'format');
  const format = formatEntry ? r.oneOf(formatEntry, ['slack', 'json'], 'slack or json') : 'json';
  const timeoutEntry = r.optional(fields, 'timeout');
  const timeout = r.duration(timeoutEntry, { positive: true });
  if (!destination || !events || !format || (timeoutEntry && timeout === undefined)) return undefined;
  return {
    ...(destination.url !== undefined ? { url: destination.url } : {}),
    ...(destination.urlEnv !== undefined ? { urlEnv: destination.urlEnv } : {}),
    events,
    format,
    timeoutMs: timeout ?? DEFAULTS.notifyTimeoutMs,
  };
}

/** Where a webhook goes: `url_env` (the env var holding the URL) or `url`, exactly one. */
function readDestination(
  r: PlanReader,
  itemEntry: Entry,
  fields: Fields,
): { url?: string; urlEnv?: string } | undefined {
  const { path } = itemEntry;
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
    urlEnv = r.envName(urlEnvEntry, 'the name of an environment variable like SLACK_WEBHOOK_URL');
    if (urlEnv === undefined) ok = false;
  }
  return ok ? { url, urlEnv } : undefined;
}

/** `events`: every event when absent; an unknown one is refused with the closest name. */
function readEvents(r: PlanReader, fields: Fields): NotifyEvent[] | undefined {
  const eventsEntry = r.optional(fields, 'events');
  if (!eventsEntry) return [...NOTIFY_EVENTS];
  const list = r.items(eventsEntry);
  if (list === undefined || list.length === 0) {
    r.fail(eventsEntry, `a list of events from ${NOTIFY_EVENTS.join(', ')}`);
    return undefined;
  }
  const events: NotifyEvent[] = [];
  let ok = true;
  for (const eventEntry of list) {
    const name = r.text(eventEntry);
    if (name !== undefined && (NOTIFY_EVENTS as readonly string[]).includes(name)) {
      events.push(name as NotifyEvent);
      continue;
    }
    const shown = name ?? r.show(eventEntry);
    const guess = name === undefined ? undefined : closest(name, [...NOTIFY_EVENTS]);
    const hint =
      guess !== undefined &&
      name !== undefined &&
      distance(name, guess) <= Math.max(2, Math.floor(guess.length / 3))
        ? `did you mean '${guess}'?`
        : `expected one of ${NOTIFY_EVENTS.join(', ')}`;
    r.problem(eventEntry, `${eventEntry.path}: unknown event '${shown}'; ${hint}`);
    ok = false;
  }
  return ok ? events : undefined;
}
