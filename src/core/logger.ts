import { type Logger, pino } from 'pino';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * Keel's logger: readable lines on a terminal (pino-pretty), JSON lines otherwise (or when
 * KEEL_LOG_FORMAT=json). Logs go to stderr so that stdout stays for command output.
 */
export function createLogger(options: { level?: LogLevel; pretty?: boolean } = {}): Logger {
  const level = options.level ?? (process.env.KEEL_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const pretty =
    options.pretty ??
    (process.env.KEEL_LOG_FORMAT ? process.env.KEEL_LOG_FORMAT === 'pretty' : Boolean(process.stderr.isTTY));
  if (pretty) {
    return pino({
      level,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
      },
    });
  }
  return pino({ level }, pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
