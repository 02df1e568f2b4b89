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
const log = createLogger(loaded.config.logLevel);

process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));

try {
  const bot = await startBot(loaded.config, { log });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Never hang: a stuck request must not keep a service manager waiting.
    setTimeout(() => process.exit(1), 10_000).unref();
    bot.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  if (error instanceof StartupError) log.fatal(error.message);
  else log.fatal({ err: error }, 'could not start');
  process.exit(1);
}
