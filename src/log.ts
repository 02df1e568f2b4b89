import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Paths that could ever hold a secret are censored, whatever a caller passes by mistake. */
const REDACT = ['token', 'apiKey', 'discordToken', 'robloxApiKey', '*.token', '*.apiKey', '*.discordToken', '*.robloxApiKey', 'headers.authorization', 'headers["x-api-key"]'];

/**
 * An interaction's token sits in the URL of every answer to it (`/interactions/{id}/{token}/callback`,
 * `/webhooks/{application}/{token}/...`), and discord.js puts that URL on its errors (`url`): anyone
 * holding it can answer as the bot for 15 minutes. Censored in every finished line, so no call site
 * and no nesting of errors can let one through.
 */
const TOKEN_IN_URL = /(\/(?:interactions|webhooks)\/\d+\/)[^/?#\s"'\\]+/g;

function censorTokens(line: string): string {
  return line.includes('/interactions/') || line.includes('/webhooks/') ? line.replace(TOKEN_IN_URL, '$1[secret]') : line;
}

/** JSON lines for production (log shippers), or readable colored lines for a developer's terminal. */
export function createLogger(level: string, destination?: DestinationStream, format: 'json' | 'pretty' = 'json'): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[secret]' }, hooks: { streamWrite: censorTokens }, base: { app: 'gatepass' } };
  // pino-pretty as a stream in this thread: a transport would add a worker thread and its memory.
  return pino(options, format === 'pretty' ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,app', destination: destination ?? 1 }) : destination);
}
