import { BigQuery } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';

export interface BigQueryOptions {
  projectId: string;
  location: string;
  /** Set for an emulator (e.g. http://127.0.0.1:9050); unset means Google's API with default credentials. */
  apiEndpoint?: string;
}

/**
 * The official client, pointed at real BigQuery or at an emulator. For an emulator it
 * sends no credentials (PassThroughClient) rather than probing for Google's default
 * credentials. BIGQUERY_EMULATOR_HOST must stay unset: the client uses it verbatim as the
 * base URL and it takes precedence over apiEndpoint.
 */
export function createBigQuery({ projectId, location, apiEndpoint }: BigQueryOptions): BigQuery {
  if (process.env.BIGQUERY_EMULATOR_HOST) {
    throw new Error(
      'unset BIGQUERY_EMULATOR_HOST; point the client at an emulator with BIGQUERY_API_ENDPOINT',
    );
  }
  if (!apiEndpoint) return new BigQuery({ projectId, location });
  return new BigQuery({ projectId, location, apiEndpoint, authClient: new PassThroughClient() });
}
