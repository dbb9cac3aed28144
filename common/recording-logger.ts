import type { Logger } from './logger.js';

export interface RecordedLine {
  readonly level: string;
  readonly msg: string;
}

/** A Logger that keeps each line's level and message, for tests that check what was logged. */
export function recordingLogger(): { logger: Logger; lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const at = (level: string) => (obj: object | string, msg?: string): void => {
    lines.push({ level, msg: typeof obj === 'string' ? obj : (msg ?? '') });
  };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return { logger, lines };
}
