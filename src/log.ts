import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Paths that could ever hold a secret are censored, whatever a caller passes by mistake. */
const REDACT = ['token', 'apiKey', 'discordToken', 'robloxApiKey', '*.token', '*.apiKey', '*.discordToken', '*.robloxApiKey', 'headers.authorization', 'headers["x-api-key"]'];

/** JSON lines for production (log shippers), or readable colored lines for a developer's terminal. */
export function createLogger(level: string, destination?: DestinationStream, format: 'json' | 'pretty' = 'json'): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[secret]' }, base: { app: 'gatepass' } };
  // pino-pretty as a stream in this thread: a transport would add a worker thread and its memory.
  return pino(options, format === 'pretty' ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app', destination: destination ?? 1 }) : destination);
}
