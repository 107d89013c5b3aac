import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths that may hold secrets or personal data; pino replaces their values. */
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-write-key"]',
  'headers.authorization',
  '*.token',
  '*.writeKey',
  '*.password',
  '*.ip',
];

/** JSON logs on stdout, one line per entry, with the service name on every line. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, redact: { paths: REDACT, censor: '[redacted]' } });
}
