// How each process of the bot starts and stops, whoever started it (npm start, its manager, or a
// service manager such as systemd): a failed start says what to fix in one line and exits with a
// code saying whether starting again could help; SIGINT/SIGTERM stop it cleanly, and never hang.

import { type BotOptions, StartupError, startBot } from './bot';
import type { Config } from './config';
import type { Logger } from './log';

/**
 * A process exits with this when its configuration is wrong: restarting it would only fail again.
 * (EX_CONFIG from sysexits.h; the systemd units do not restart on it: RestartPreventExitStatus=78.)
 */
export const EXIT_CONFIG = 78;

/**
 * Starts the bot. `configExit`: a configuration error Discord reported (token, intents, shards)
 * exits with EXIT_CONFIG, for whoever restarts this process; otherwise every failure exits 1.
 * Returns the shutdown, for other reasons to stop.
 */
export function runBot(config: Config, options: BotOptions, configExit: boolean): (reason: string) => void {
  const { log } = options;
  const starting = startBot(config, options);
  const shutdown = onSignals(log, () => starting.then((bot) => bot.stop(), () => undefined));
  starting.catch((error: unknown) => {
    // Like a configuration error: one plain line saying what to fix.
    if (error instanceof StartupError) console.error(error.message);
    else log.fatal({ err: error }, 'could not start');
    process.exit(configExit && error instanceof StartupError && !error.transient ? EXIT_CONFIG : 1);
  });
  return shutdown;
}

/** Installed before start-up finishes: a signal while connecting is handled the same way. */
export function onSignals(log: Logger, stop: () => Promise<unknown>): (signal: string) => void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Never hang: a stuck request must not keep a service manager waiting.
    setTimeout(() => process.exit(1), 10_000).unref();
    stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  return shutdown;
}
