import { Client } from 'pg';
import { stack } from './setup/stack';

describe('PostgreSQL (smoke)', () => {
  it('round-trips a row with parameterised SQL', async () => {
    const client = new Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      await client.query('CREATE TEMP TABLE smoke (id int PRIMARY KEY, payload jsonb NOT NULL)');
      await client.query('INSERT INTO smoke (id, payload) VALUES ($1, $2)', [1, { hello: "world'; --" }]);
      const { rows } = await client.query('SELECT payload FROM smoke WHERE id = $1', [1]);
      expect(rows).toEqual([{ payload: { hello: "world'; --" } }]);
    } finally {
      await client.end();
    }
  });
});
