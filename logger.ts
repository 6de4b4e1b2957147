import pino from 'pino';
import { config } from './config';

/** JSON lines on stdout, one logger per process, tagged with the process's role. */
export function createLogger(role: string) {
  return pino({ level: config.logLevel, base: { role }, timestamp: pino.stdTimeFunctions.isoTime });
}
