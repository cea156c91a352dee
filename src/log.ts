// JSON logs (pino). Lines about a binding carry `port`.
import { pino, type Logger } from 'pino';

export function createLogger(name = 'vifd'): Logger {
  return pino({ name, level: process.env['VIFD_LOG_LEVEL'] ?? 'info', base: { pid: process.pid } });
}
