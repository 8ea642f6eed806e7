import type { RelayErrorBody, Route, StoredVersion } from '../domain/relay.js';

/** An error the emulator answers with, in the contract's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly field?: string,
    readonly existing?: StoredVersion,
    /** For a 412: the route as it is now (the contract's `error.current`). */
    readonly current?: Route,
  ) {
    super(message);
  }

  body(): RelayErrorBody {
    const error: RelayErrorBody['error'] = { type: this.type, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.existing !== undefined) error.existing = this.existing;
    if (this.current !== undefined) error.current = this.current;
    return { error };
  }
}

export const validation = (field: string | undefined, message: string) =>
  new ApiError(422, 'validation_error', message, field);

export const notFound = (message: string) => new ApiError(404, 'not_found', message);
