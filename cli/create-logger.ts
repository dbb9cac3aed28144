import { pino, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../common/logger.js';

export interface LoggerOptions {
  readonly name: string;
  /** GRIDLINE_LOG_LEVEL overrides it. */
  readonly level?: string;
  /** `pretty` for people (default on a terminal), `json` for log shippers (GRIDLINE_LOG_FORMAT). */
  readonly format?: 'pretty' | 'json';
  /** Where lines go; stderr by default so command output on stdout stays clean. */
  readonly destination?: DestinationStream | NodeJS.WritableStream;
}

/** The one place pino is configured. Everything else takes the Logger interface. */
export function createLogger(options: LoggerOptions): Logger {
  const level = process.env.GRIDLINE_LOG_LEVEL ?? options.level ?? 'info';
  const format = (process.env.GRIDLINE_LOG_FORMAT as 'pretty' | 'json' | undefined) ?? options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const destination = options.destination ?? process.stderr;
  const stream = format === 'pretty'
    ? pretty({ destination, colorize: process.stderr.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
    : destination;
  return pino({ name: options.name, level, base: { pid: process.pid } }, stream as DestinationStream) as unknown as Logger;
}
