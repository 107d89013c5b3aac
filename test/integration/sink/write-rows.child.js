// Writes exposure rows with the sink's own Write API code (from dist/), in a child process:
// inside Jest's VM the gRPC client's deadlines misbehave (a negative timer, no answer),
// so every Storage Write API call of the tests runs in a plain Node process.
// Input (argv[2], JSON): { project, endpoint, dataset, schema, records }.
const { join } = require('node:path');
const dist = join(__dirname, '..', '..', '..', 'dist', 'services', 'sink');
const { tableDefs } = require(join(dist, 'tables.js'));
const { toRow } = require(join(dist, 'rows.js'));
const api = require(join(dist, 'write-api.js'));

async function main() {
  const input = JSON.parse(process.argv[2]);
  const def = tableDefs(input.schema ? { exposure: input.schema } : {}).get('exposures');
  const rows = input.records.map(
    (r, i) => toRow(def, r, { topic: 'manual', partition: 0, offset: String(i) }, null).row,
  );
  const client = api.createWriterClient({ projectId: input.project, endpoint: input.endpoint });
  const stream = await api.createCommittedStream(
    client,
    api.tablePath(input.project, input.dataset, 'exposures'),
    api.descriptorOf(def.fields),
  );
  const result = await (
    await stream.send(
      rows.map((r) => r.json),
      0,
      30000,
    )
  )();
  stream.close();
  client.close();
  if (result.kind !== 'ok') throw new Error(JSON.stringify(result));
}
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
