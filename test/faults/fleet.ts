// The bots the fault suite (faults.test.ts) runs against, in either of its modes:
//
// - single (FAULT_MODE unset): one bot in the suite's own process, on the test database.
// - multi (FAULT_MODE=multi): three bot processes in queue mode on one PostgreSQL database and one
//   throwaway redis-server, each holding one gateway shard of three, their Discord requests sent
//   through one REST proxy as the manager's shard processes send theirs. Real processes rather
//   than three bots in this one: a bot killed here must stop at once, mid-request, with nothing
//   of its work running on (an in-process "crash" would leave its promises writing roles and rows),
//   and nothing may be shared but what Discord, Roblox, PostgreSQL and Redis hold. Each runs
//   test/faults/botprocess.ts, which the suite drives over Node's IPC channel.

import { fork, type ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BotOptions } from '../../src/bot';
import { type Database, openDatabase } from '../../src/database/client';
import type { ProvenLink } from '../../src/database/links';
import { createLogger } from '../../src/log';
import { startRestProxy } from '../../src/restproxy';
import { CYCLE_SCHEDULER, QUEUE_NAME, QUEUE_PREFIX } from '../../src/queue/jobs';
import { testingPostgres } from '../database';
import { shardOf, type FakeGuild } from '../fakes/discord';
import { until, type World } from '../harness';
import { redisAvailable, startRedis } from '../redis';
import type { Call, FromBot, ToBot } from './botprocess';
import { settle } from './settle';

export interface Bots {
  /** The database the bots share, for the suite's own rows. */
  readonly db: Database;
  /** A bot's link changes: `first` runs while it holds the members' locks, inside the link's transaction. */
  readonly links: { save(link: ProvenLink, first: () => Promise<boolean>): Promise<unknown> };
  /** Starts a cycle. One bot: settles when the cycle ends (or is cut short); several: once it is queued. */
  runAll(trigger: string): Promise<unknown>;
  /** The cycle started last has ended, resumed after restarts if need be, and nothing it queued is left. */
  settled(): Promise<void>;
  /** Until what the bots began lands: join-time syncs, the unverified-role pass of a start. */
  quiet(): Promise<void>;
  /** Every bot stops, as a service manager would stop it; start() brings them back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** One bot (which: `pick`) stops gracefully and starts again. */
  restart(pick: <T>(items: readonly T[]) => T): Promise<void>;
  /** Several bots only: one holding a job dies by SIGKILL, releasing nothing, and is started again. */
  kill?(pick: <T>(items: readonly T[]) => T): Promise<void>;
  /** What the suite prints about them. */
  describe(): string;
  close(): Promise<void>;
}

/** One bot in this process: `start` is the suite's own. */
export function oneBot(world: World, start: () => Promise<unknown>): Bots {
  const bot = () => world.bot!;
  const stop = () => bot().stop();
  return {
    get db() {
      return bot().db;
    },
    links: { save: (link, first) => bot().links.save(link, first) },
    runAll: (trigger) => bot().runs.runAll(trigger),
    settled: () => until(async () => (await bot().db.syncRun.count({ where: { finishedAt: null } })) === 0, 'the resumed run', 30_000),
    quiet: () => settle(bot()),
    stop,
    start: async () => void (await start()),
    async restart() {
      await stop();
      await start();
    },
    describe: () => 'one bot',
    close: async () => undefined,
  };
}

export const SHARDS = 3;
/** Members per batch job: the suite's ten members make three batches, one for each bot to take. */
const BATCH_SIZE = 4;

/** Where a server of the suite goes: in multi mode, each on the shard after the last one's. */
export function onNextShard(previous: FakeGuild): { onShard?: [number, number] } {
  return { onShard: [(shardOf(previous.id, SHARDS) + 1) % SHARDS, SHARDS] };
}

interface Child {
  shard: number;
  process: ChildProcess;
  exited: Promise<void>;
  /** Set before the suite stops or kills it: any other exit is a crash. */
  ending: boolean;
}

/** Three bot processes, one shard each, in queue mode on the world's PostgreSQL database. */
export async function botFleet(world: World, options: Omit<BotOptions, 'log' | 'shards' | 'restProxyUrl'>): Promise<Bots> {
  if (!testingPostgres()) throw new Error('FAULT_MODE=multi runs three bot processes on one PostgreSQL database: set TEST_DATABASE=postgres and TEST_POSTGRES_URL');
  if (!redisAvailable) throw new Error('FAULT_MODE=multi needs redis-server (apt-get install redis-server)');
  const redis = await startRedis();
  // The manager's REST proxy: one Discord rate limit for every process.
  const proxy = await startRestProxy({ discordApiBaseUrl: world.config.discordApiBaseUrl, host: '127.0.0.1', port: 0, log: createLogger('silent') });
  const restProxyUrl = proxy.apiUrl;
  const queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection: queueConnection, prefix: QUEUE_PREFIX });
  const children: (Child | undefined)[] = Array.from({ length: SHARDS }, () => undefined);
  const calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const inLock = new Map<number, () => Promise<boolean>>();
  let nextId = 0;
  /** Calls not answered yet: a stop waits for them (a cycle asked for is queued before its bot stops). */
  const pending = new Set<Promise<unknown>>();

  const call = (child: Child, message: Call, first?: () => Promise<boolean>) => {
    const id = ++nextId;
    if (first) inLock.set(id, first);
    const answer = new Promise<unknown>((resolve, reject) => {
      calls.set(id, { resolve, reject });
      void child.exited.then(() => reject(new Error(`the bot process of shard ${child.shard} ended before answering ${message.op}`)));
    });
    child.process.send({ ...message, id } satisfies ToBot);
    pending.add(answer);
    const forget = () => {
      pending.delete(answer);
      inLock.delete(id);
    };
    answer.then(forget, forget);
    return answer;
  };

  const spawn = (shard: number): Promise<void> => {
    const child: Child = { shard, ending: false, process: fork(new URL('./botprocess.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }), exited: Promise.resolve() };
    children[shard] = child;
    let partial = '';
    child.process.stdout!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      // Which bot said it: its shard, first in the line.
      for (const line of lines) world.logs.push(line.startsWith('{') ? `{"shard":${shard},${line.slice(1)}\n` : `${line}\n`);
    });
    let stderr = '';
    child.process.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.exited = new Promise((resolve) =>
      child.process.once('exit', (code, signal) => {
        if (!child.ending) world.logs.push(`${JSON.stringify({ level: 60, msg: `bot process of shard ${shard} exited by itself (${signal ?? code})`, stderr: stderr.slice(-2_000) })}\n`);
        resolve();
      }),
    );
    child.process.on('message', (message: FromBot) => {
      if (message.op === 'inLock') {
        const first = inLock.get(message.id)!;
        void first().then((answer) => child.process.send({ op: 'inLock', id: message.id, answer } satisfies ToBot));
      } else if (message.op === 'done') {
        const waiter = calls.get(message.id);
        calls.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.value);
      }
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.process.on('message', (message: FromBot) => message.op === 'ready' && resolve());
      void child.exited.then(() => reject(new Error(`bot process of shard ${shard} exited while starting: ${stderr.slice(-2_000)}`)));
    });
    const start: ToBot = { op: 'start', config: { ...world.config, redisUrl: redis.url }, options: { ...options, shards: { ids: [shard], count: SHARDS }, restProxyUrl, batchSize: BATCH_SIZE } };
    child.process.send(start);
    return ready;
  };

  const end = async (child: Child, how: 'stop' | 'kill') => {
    child.ending = true;
    if (how === 'kill') child.process.kill('SIGKILL');
    else await call(child, { op: 'stop' });
    await child.exited;
    children[child.shard] = undefined;
  };
  const live = () => children.filter((c): c is Child => c !== undefined);
  const finished = () => db.syncRun.count({ where: { NOT: { finishedAt: null } } });
  /** Queued jobs not yet done, besides the cycle's schedule (a delayed job until its time). */
  const queued = async () => {
    const counts = await queue.getJobCounts('active', 'wait', 'prioritized', 'waiting-children');
    const delayed = (await queue.getDelayed()).filter((job) => !job.id?.startsWith(`repeat:${CYCLE_SCHEDULER}:`));
    return Object.values(counts).reduce((a, b) => a + b, 0) + delayed.length;
  };

  const db = openDatabase(world.config.databaseUrl);
  let finishedBefore = 0;
  const fleet: Bots = {
    db,
    links: { save: (link, first) => call(live()[0]!, { op: 'save', link }, first) },
    async runAll(trigger) {
      finishedBefore = await finished();
      await call(live()[0]!, { op: 'runAll', trigger });
    },
    settled: () => until(async () => (await finished()) > finishedBefore && (await db.syncRun.count({ where: { finishedAt: null } })) === 0 && (await queued()) === 0, 'the cycle and its queued jobs', 120_000),
    quiet: async () => void (await Promise.all(live().map((child) => call(child, { op: 'quiet' })))),
    async stop() {
      await Promise.allSettled([...pending]);
      await Promise.all(live().map((child) => end(child, 'stop')));
    },
    async start() {
      // The first applies the migrations alone; the others find them done.
      if (live().length === 0) await spawn(0);
      await Promise.all(children.map((child, shard) => (child ? undefined : spawn(shard))));
    },
    async restart(pick) {
      await Promise.allSettled([...pending]);
      const child = pick(live());
      await end(child, 'stop');
      await spawn(child.shard);
    },
    async kill(pick) {
      // Mid-cycle: once a bot holds a job (its batch's members locked, reads in flight), or at random if the cycle outruns the look.
      let busy: Child[] = [];
      const deadline = Date.now() + 5_000;
      while (busy.length === 0 && Date.now() < deadline) {
        const answers = await Promise.all(live().map(async (child) => ((await call(child, { op: 'busy' })) ? child : undefined)));
        busy = answers.filter((child): child is Child => child !== undefined);
        if (busy.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const child = pick(busy.length > 0 ? busy : live());
      await end(child, 'kill');
      // The manager starts a dead shard's process again.
      await spawn(child.shard);
    },
    describe: () => `${SHARDS} bot processes in queue mode (one shard each, batches of ${BATCH_SIZE}) on PostgreSQL and Redis`,
    async close() {
      await Promise.all(live().map((child) => end(child, 'kill')));
      await queue.close();
      queueConnection.disconnect();
      await db.$disconnect();
      await proxy.close();
      await redis.stop();
    },
  };
  return fleet;
}
