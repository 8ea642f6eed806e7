/**
 * The relay's health and model-version calls. Registering is safe to repeat: a version already
 * stored with the same configuration is accepted, one stored with another is refused (exit 2).
 */

import type { CallOptions, RelayPort, StoredVersion, VersionSpec } from '../domain/relay.js';
import { CanaryError, ExitCode } from '../errors.js';
import { describeDifferences, diffVersion } from './compare.js';
import type { Request } from './failures.js';
import { checkAnswer, readHealth, readStoredVersion } from './schemas.js';
import type { Wire } from './wire.js';

export type VersionCalls = Pick<RelayPort, 'health' | 'registerVersion' | 'getVersion'>;

export function versionCalls(wire: Wire): VersionCalls {
  const calls: VersionCalls = {
    async health(opts) {
      const req: Request = { method: 'GET', path: '/health', auth: false, subject: 'the health endpoint' };
      const answer = await wire.send(req, opts);
      if (answer.status < 200 || answer.status >= 300) throw wire.failure(req, answer);
      const body = wire.parseBody(req, answer, readHealth);
      if (body.status !== 'ok') {
        throw wire.invalid(req, answer, `status "${wire.failures.scrub(body.status)}" instead of "ok"`);
      }
    },

    async registerVersion(spec: VersionSpec, opts?: CallOptions) {
      const req: Request = {
        method: 'POST',
        path: '/models/versions',
        body: spec,
        subject: 'the versions endpoint',
      };
      const answer = await wire.send(req, opts);
      if (answer.status >= 200 && answer.status < 300) {
        return { version: wire.parseBody(req, answer, readStoredVersion), created: true };
      }
      if (answer.status !== 409) throw wire.failure(req, answer);

      const conflict = wire.failure(req, answer);
      const checked = checkAnswer(readStoredVersion, conflict.existing);
      // `existing` is what makes re-running a plan safe; a relay without it is asked directly.
      const existing: StoredVersion = checked.ok
        ? checked.value
        : await calls.getVersion(spec.version_tag, opts);
      const diffs = diffVersion(spec, existing);
      if (diffs.length === 0) return { version: existing, created: false };
      throw new CanaryError(
        `version ${spec.version_tag} is already registered with a different configuration: ${describeDifferences(diffs)}. Versions are immutable: use a new version_tag.`,
        ExitCode.BadInput,
        {
          hint: `Give the changed configuration a new version_tag, or make the plan match what the relay stores for ${spec.version_tag}.`,
        },
      );
    },

    getVersion(tag: string, opts?: CallOptions): Promise<StoredVersion> {
      return wire.call(
        { method: 'GET', path: `/models/versions/${encodeURIComponent(tag)}`, subject: `version ${tag}` },
        readStoredVersion,
        opts,
      );
    },
  };
  return calls;
}
