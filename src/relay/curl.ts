import type { UpdateRouteRequest } from '../domain/relay.js';
import { DEFAULT_KEY_ENV_VAR } from './credentials.js';

/** POSIX single-quoting: safe for any text, including quotes and `$`. */
function sq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The exact command a person can run when canary cannot confirm a weight change (most
 * importantly a rollback). The key stays a shell variable reference, so the command can be
 * printed, logged and pasted into a ticket without leaking it.
 */
export function curlForUpdate(
  baseUrl: string,
  request: UpdateRouteRequest,
  envVar: string = DEFAULT_KEY_ENV_VAR,
): string {
  // A name that is not a shell identifier would expand to something else entirely.
  const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(envVar) ? envVar : DEFAULT_KEY_ENV_VAR;
  const url = `${baseUrl.replace(/\/+$/, '')}/routes/traffic`;
  const body = JSON.stringify({ route_id: request.route_id, route_rules: request.route_rules });
  return [
    `curl -sS -X PATCH ${sq(url)}`,
    `-H "Authorization: Bearer $${name}"`,
    `-H 'Content-Type: application/json'`,
    `--data ${sq(body)}`,
  ].join(' ');
}
