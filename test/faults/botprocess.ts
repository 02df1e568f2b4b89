// One bot of the fault suite's multi-process mode, in a process of its own (test/faults/fleet.ts
// forks it). It logs JSON lines on stdout and speaks to the suite over Node's IPC channel: the suite
// sends its configuration and shard, then asks for link changes through this bot's links.save (the
// suite moves its truth inside the member's lock, as the proof would), a cycle through its
// runs.runAll, whether it holds a queued job, to wait until its events' work is done, and a graceful stop. A SIGKILL ends it without any.

import type { Bot, BotOptions } from '../../src/bot';
import { startBot } from '../../src/bot';
import type { Config } from '../../src/config';
import type { ProvenLink } from '../../src/database/links';
import { createLogger } from '../../src/log';
import { settle } from './settle';

/** What the suite asks of a bot; the bot answers each with `done` and its id. */
export type Call = { op: 'save'; link: ProvenLink } | { op: 'runAll'; trigger: string } | { op: 'busy' } | { op: 'quiet' } | { op: 'stop' };

export type ToBot = { op: 'start'; config: Config; options: Omit<BotOptions, 'log'> } | { op: 'inLock'; id: number; answer: boolean } | (Call & { id: number });

export type FromBot = { op: 'ready' } | { op: 'inLock'; id: number } | { op: 'done'; id: number; value?: unknown; error?: string };

const log = createLogger('debug', { write: (line: string) => void process.stdout.write(line) });
// Counted by the suite as crashes, as a level-60 line.
process.on('unhandledRejection', (reason) => log.fatal({ err: reason }, 'unhandled rejection'));
// The suite is gone: nobody would stop this bot.
process.on('disconnect', () => process.exit(1));
setInterval(() => process.connected || process.exit(1), 1_000).unref();

const send = (message: FromBot) => process.send!(message);
let bot: Bot | undefined;
/** Jobs this bot's worker holds now. */
let active = 0;
const inLock = new Map<number, (answer: boolean) => void>();

async function handle(message: ToBot): Promise<unknown> {
  switch (message.op) {
    case 'start': {
      bot = await startBot(message.config, { ...message.options, log });
      const worker = bot.queue!.worker()!;
      worker.on('active', () => active++);
      for (const end of ['completed', 'failed'] as const) worker.on(end, () => active--);
      return undefined;
    }
    case 'save':
      // The suite's truth moves while this bot holds the locks, inside the link's transaction.
      return bot!.links.save(message.link, () => {
        send({ op: 'inLock', id: message.id });
        return new Promise<boolean>((resolve) => inLock.set(message.id, resolve));
      });
    case 'inLock':
      inLock.get(message.id)?.(message.answer);
      inLock.delete(message.id);
      return undefined;
    case 'runAll':
      return bot!.runs.runAll(message.trigger);
    case 'busy':
      return active > 0;
    case 'quiet':
      return settle(bot!);
    case 'stop':
      await bot?.stop();
      return undefined;
  }
}

process.on('message', (message: ToBot) => {
  handle(message).then(
    (value) => {
      if (message.op === 'start') send({ op: 'ready' });
      else if (message.op !== 'inLock') send({ op: 'done', id: message.id, value });
      if (message.op === 'stop') process.exit(0);
    },
    (error: unknown) => {
      if (message.op === 'start' || message.op === 'inLock') {
        log.fatal({ err: error }, 'fault suite bot: could not start');
        process.exit(1);
      }
      send({ op: 'done', id: message.id, error: String(error) });
    },
  );
});
