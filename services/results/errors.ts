// Typed errors of the results service, so callers (HTTP routes, the scheduler) can answer
// each failure precisely instead of guessing from a message.

/** The registry answered with an error, or could not be reached. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    message: string,
    /** HTTP status, or null when the registry could not be reached. */
    readonly status: number | null,
  ) {
    super(message);
  }
}

/** A refresh took longer than its time limit; its BigQuery job may still finish, unused. */
export class RefreshTimeoutError extends Error {
  override name = 'RefreshTimeoutError';
}
