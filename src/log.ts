import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths that could ever hold a secret are censored, whatever a caller passes by mistake. */
const REDACT = ['token', 'apiKey', 'discordToken', 'robloxApiKey', '*.token', '*.apiKey', '*.discordToken', '*.robloxApiKey', 'headers.authorization', 'headers["x-api-key"]'];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[secret]' }, base: { app: 'gatepass' } }, destination);
}
