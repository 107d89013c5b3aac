import type { BigQuery, Dataset } from '@google-cloud/bigquery';
import { createBigQuery } from '../../services/common/bigquery';
import { stack, uniqueName } from './setup/stack';

describe('BigQuery API through the official client (smoke)', () => {
  let bq: BigQuery;
  let dataset: Dataset;

  beforeAll(async () => {
    bq = createBigQuery({
      projectId: stack.bigqueryProject,
      location: 'US',
      apiEndpoint: stack.bigqueryEndpoint,
    });
    [dataset] = await bq.createDataset(uniqueName('smoke'), { location: 'US' });
  });
  afterAll(async () => {
    await dataset?.delete({ force: true });
  });

  it('creates a day-partitioned, clustered table, writes rows and queries them', async () => {
    const [table] = await dataset.createTable('exposures', {
      schema: {
        fields: [
          { name: 'unit_id', type: 'STRING', mode: 'REQUIRED' },
          { name: 'experiment_key', type: 'STRING', mode: 'REQUIRED' },
          { name: 'variation_id', type: 'STRING', mode: 'REQUIRED' },
          { name: 'timestamp', type: 'TIMESTAMP', mode: 'REQUIRED' },
          { name: 'attributes', type: 'JSON', mode: 'NULLABLE' },
        ],
      },
      timePartitioning: { type: 'DAY', field: 'timestamp' },
      clustering: { fields: ['experiment_key', 'variation_id'] },
    });
    const [meta] = await table.getMetadata();
    expect(meta.timePartitioning).toMatchObject({ type: 'DAY', field: 'timestamp' });
    expect(meta.clustering).toEqual({ fields: ['experiment_key', 'variation_id'] });

    const at = '2026-11-24T12:00:00.000Z';
    await table.insert(
      [
        {
          json: {
            unit_id: 'u1',
            experiment_key: 'checkout',
            variation_id: 'blue',
            timestamp: at,
            attributes: '{"a":1}',
          },
        },
        {
          json: {
            unit_id: 'u2',
            experiment_key: 'checkout',
            variation_id: 'red',
            timestamp: at,
            attributes: null,
          },
        },
        {
          json: {
            unit_id: 'u3',
            experiment_key: 'checkout',
            variation_id: 'red',
            timestamp: at,
            attributes: null,
          },
        },
      ],
      { raw: true },
    );

    // createQueryJob + getQueryResults throws on query errors (bq.query() may not, on the emulator).
    const [job] = await bq.createQueryJob({
      query: `SELECT variation_id, COUNT(*) AS units FROM \`${dataset.id}.exposures\`
              WHERE experiment_key = @experiment AND timestamp >= @since
              GROUP BY variation_id ORDER BY variation_id`,
      params: { experiment: 'checkout', since: bq.timestamp('2026-11-24T00:00:00Z') },
    });
    const [rows] = await job.getQueryResults();
    expect(rows).toEqual([
      { variation_id: 'blue', units: 1 },
      { variation_id: 'red', units: 2 },
    ]);
  });
});
