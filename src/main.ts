// `npm start`: read the environment, start the bot, stop cleanly on SIGINT/SIGTERM.

import 'dotenv/config';
import { StartupError, startBot } from './bot';
import { loadConfig } from './config';
import { createLogger } from './log';

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
const log = createLogger(loaded.config.logLevel, undefined, loaded.config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'));

process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));

const starting = startBot(loaded.config, { log });

// Installed before start-up finishes: a signal while connecting is handled the same way.
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  // Never hang: a stuck request must not keep a service manager waiting.
  setTimeout(() => process.exit(1), 10_000).unref();
  starting.then(
    (bot) => bot.stop().then(() => process.exit(0), () => process.exit(1)),
    () => process.exit(0),
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

starting.catch((error: unknown) => {
  // Like a configuration error: one plain line saying what to fix.
  if (error instanceof StartupError) console.error(error.message);
  else log.fatal({ err: error }, 'could not start');
  process.exit(1);
});
