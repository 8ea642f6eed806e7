import type { RelayErrorBody, StoredVersion } from '../relay/types.js';

/** An error the emulator answers with, in the contract's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly field?: string,
    readonly existing?: StoredVersion,
  ) {
    super(message);
  }

  body(): RelayErrorBody {
    const error: RelayErrorBody['error'] = { type: this.type, message: this.message };
    if (this.field !== undefined) error.field = this.field;
    if (this.existing !== undefined) error.existing = this.existing;
    return { error };
  }
}

export const validation = (field: string | undefined, message: string) =>
  new ApiError(422, 'validation_error', message, field);

export const notFound = (message: string) => new ApiError(404, 'not_found', message);
