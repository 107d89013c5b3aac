// The same stack as `make up`, in containers, for machines with a Docker engine.
// UNTESTED on the project's own CI machine, which has no Docker engine (docs/testing.md).
import {
  GenericContainer,
  Network,
  Wait,
  type StartedNetwork,
  type StartedTestContainer,
} from 'testcontainers';

const started: StartedTestContainer[] = [];
let network: StartedNetwork | undefined;

// Kafka advertises a fixed host port: clients must reach the address the broker returns.
const KAFKA_HOST_PORT = 19092;

export async function startContainers(): Promise<Record<string, string>> {
  network = await new Network().start();
  const postgres = await new GenericContainer('postgres:15')
    .withNetwork(network)
    .withNetworkAliases('postgres')
    .withEnvironment({ POSTGRES_USER: 'xp', POSTGRES_PASSWORD: 'xp', POSTGRES_DB: 'xp' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const kafka = await new GenericContainer('apache/kafka:4.1.1')
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'HOST://:9092,DOCKER://:9094,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `HOST://localhost:${KAFKA_HOST_PORT},DOCKER://kafka:9094`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'HOST:PLAINTEXT,DOCKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'DOCKER',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withExposedPorts({ container: 9092, host: KAFKA_HOST_PORT })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = await new GenericContainer('confluentinc/cp-schema-registry:7.7.1')
    .withNetwork(network)
    .withEnvironment({
      SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
      SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
      SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9094',
    })
    .withExposedPorts(8081)
    .withWaitStrategy(Wait.forHttp('/subjects', 8081))
    .start();
  const bigquery = await new GenericContainer('ghcr.io/goccy/bigquery-emulator:0.6.6')
    .withCommand(['--project=xp-local'])
    .withExposedPorts(9050)
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  started.push(postgres, kafka, registry, bigquery);

  const at = (c: StartedTestContainer, port: number) => `${c.getHost()}:${c.getMappedPort(port)}`;
  return {
    KAFKA_BROKERS: `localhost:${KAFKA_HOST_PORT}`,
    SCHEMA_REGISTRY_URL: `http://${at(registry, 8081)}`,
    DATABASE_URL: `postgresql://xp:xp@${at(postgres, 5432)}/xp`,
    BIGQUERY_API_ENDPOINT: `http://${at(bigquery, 9050)}`,
    BIGQUERY_PROJECT: 'xp-local',
  };
}

export async function stopContainers(): Promise<void> {
  for (const c of started.reverse()) await c.stop();
  started.length = 0;
  await network?.stop();
}
