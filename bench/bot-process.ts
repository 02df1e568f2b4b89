// The bot under benchmark, alone in its process so its memory is its own. The parent sends
// {cycle: true} and gets the cycle's figures back; {stop: true} ends it.
//
// In queue mode (REDIS_URL in its config) a cycle is a tick on the shared queue that any process
// may plan, so the parent starts it and watches for its end; each process is asked {mark: true}
// before (it zeroes its figures) and {report: true} after. Under the shard manager
// (bench/manager-process.ts) the configuration comes in GATEPASS_BENCH_BOT, as discord.js starts
// shard processes without arguments of ours, and Discord requests go through the manager's proxy.

import { startBot } from '../src/bot';
import type { Config } from '../src/config';
import { createLogger } from '../src/log';
import { REST_PROXY_ENV } from '../src/manager';

export interface BotArgs {
  config: Config;
  windowMs: number;
  discordGlobalPerSecond: number;
}

/** What a process reports of itself since it was last marked. */
export interface ProcessFigures {
  /** Database time: every step's summed (errs high), and time with any step under way. */
  dbMs: number;
  dbBusyMs: number;
  planMs: number;
  peakRssMb: number;
  /** CPU time, user and system, in ms. */
  cpuMs: number;
}

const { config, windowMs, discordGlobalPerSecond } = JSON.parse(process.argv[2] ?? process.env.GATEPASS_BENCH_BOT!) as BotArgs;
const scale = windowMs / 60_000;
const stats = { planMs: 0, dbMs: 0, dbBusyMs: 0 };
let peakRss = 0;
let cpuFrom = process.cpuUsage();
const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
setInterval(sample, 50).unref();

// Orphaned by a parent or manager that died: nothing would ever stop this process.
process.on('disconnect', () => process.exit(0));

const bot = await startBot(config, {
  log: createLogger('warn', { write: (line: string) => void process.stderr.write(line) }),
  robloxWindowMs: windowMs,
  discordRest: { globalRequestsPerSecond: discordGlobalPerSecond },
  restProxyUrl: process.env[REST_PROXY_ENV],
  // The membership index's paging, scaled with time like the rate limits.
  reconcilePageMs: 100 * scale,
  stats,
});
await bot.indexReady();
global.gc?.();
process.send!({ ready: true, idleRssMb: process.memoryUsage().rss / 2 ** 20 });

const mark = () => {
  stats.planMs = 0;
  stats.dbMs = 0;
  stats.dbBusyMs = 0;
  peakRss = 0;
  cpuFrom = process.cpuUsage();
  sample();
};
const figures = (): ProcessFigures => {
  sample();
  const cpu = process.cpuUsage(cpuFrom);
  return { dbMs: stats.dbMs, dbBusyMs: stats.dbBusyMs, planMs: stats.planMs, peakRssMb: peakRss / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000 };
};

process.on('message', async (message: { cycle?: boolean; mark?: boolean; report?: boolean; stop?: boolean }) => {
  if (message.stop) {
    await bot.stop();
    process.exit(0);
  } else if (message.mark) {
    mark();
    process.send!({ marked: true });
  } else if (message.report) {
    process.send!({ report: figures() });
  } else if (message.cycle) {
    mark();
    const started = performance.now();
    const totals = await bot.runs.runAll('bench');
    process.send!({ ...figures(), ms: performance.now() - started, totals });
  }
  // Anything else is discord.js's own traffic with the shard manager.
});
