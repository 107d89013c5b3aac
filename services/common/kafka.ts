import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from './logger';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Routes kafkajs's own log lines into the service's pino logger. */
function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log;
      logger[LEVELS[level] ?? 'info']({ component: 'kafkajs', namespace, ...extra }, message);
    };
}

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
}

/** One kafkajs client per service; producers, consumers and the admin come from it. */
export function createKafka({ clientId, brokers, logger }: KafkaOptions): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger),
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
  });
}
