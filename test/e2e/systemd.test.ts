// Shard processes run on their own, as deploy/systemd's units run them: the REST proxy
// (dist/proxy.mjs, gatepass-proxy.service) and three shard processes (dist/shard.mjs with SHARD_ID
// 0, 1, 2 of SHARD_COUNT=3, gatepass@0..2.service), queue mode on a throwaway redis-server and
// PostgreSQL, against the fakes. The fake Discord enforces the session start limit (one IDENTIFY per
// 5 s for the bot, else Invalid Session), which nothing but the identify turns in Redis keeps when
// the three start at the same moment. What systemd does, the test does: it starts the shards (here
// even before their proxy), and starts again, with the same environment, the one it kills.
//
// The PostgreSQL part is skipped, with a line saying why, without TEST_POSTGRES_URL (CI's PostgreSQL
// run sets it); the configuration errors are checked on every run.

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Database, openDatabase } from '../../src/database/client';
import { addTick } from '../../src/queue/cycle';
import { QUEUE_NAME, QUEUE_PREFIX } from '../../src/queue/jobs';
import { freePort } from '../browser';
import { createPostgresDatabase, dropPostgresDatabase, TEST_POSTGRES_URL } from '../database';
import type { FakeGuild } from '../fakes/discord';
import { gate } from '../fakes/roblox';
import { createWorld, destroyWorld, expectCleanRun, opt, startProcess, until, type World } from '../harness';
import { redisAvailable, startRedis, type TestRedis } from '../redis';

if (!TEST_POSTGRES_URL) console.warn('[gatepass tests] TEST_POSTGRES_URL is unset: the shard processes run on their own (test/e2e/systemd.test.ts) need PostgreSQL and are skipped');

const SHARDS = 3;
/** Five batches of the cycle (100 members each at most): more than one process's four job slots. */
const MEMBERS = 420;
const PASS = '1001';

type Proc = ReturnType<typeof startProcess>;

describe.skipIf(!TEST_POSTGRES_URL || !redisAvailable)('the proxy and three shard processes, each run on its own as systemd runs them', () => {
  let world: World;
  let redis: TestRedis;
  let databaseUrl: string;
  let db: Database;
  let queue: Queue;
  let queueConnection: Redis;
  let proxy: Proc;
  let proxyUrl: string;
  let httpPort: number;
  let guilds: FakeGuild[];
  let vip: string[];
  const shards: Proc[] = [];
  /** Every shard process ever started, killed ones too: their output is checked for secrets at the end. */
  const started: Proc[] = [];
  let held: ReturnType<typeof gate> | undefined;
  const members: { discordId: string; guild: number; owns: boolean }[] = [];

  const startShard = (id: number) => {
    const shard = startProcess(world, {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      SHARD_COUNT: String(SHARDS),
      SHARD_ID: String(id),
      REST_PROXY_URL: proxyUrl,
      HTTP_PORT: String(httpPort),
      SYNC_CRON: '0 0 1 1 *',
      LOG_FORMAT: 'json',
      // 'sync job taken' is a debug line.
      LOG_LEVEL: 'debug',
      ROBLOX_INVENTORY_RATE_LIMIT: '10000',
    }, 'dist/shard.mjs');
    shards[id] = shard;
    started.push(shard);
    return shard;
  };
  const logged = (p: Proc, msg: string) => p.lines().some((l) => l.msg === msg);
  const accepted = () => world.discord.identifyTimes.filter((i) => !i.refused);
  const answered = (guild: FakeGuild) => world.discord.answer(world.discord.sendCommand(guild.id, guild.ownerId, 'bind', [opt.sub('list')]), 20_000);

  beforeAll(async () => {
    if (!TEST_POSTGRES_URL || !redisAvailable) return;
    const t0 = Date.now();
    redis = await startRedis();
    world = await createWorld();
    const { discord, roblox } = world;
    discord.identifySpacingMs = 5_000;
    roblox.rateLimit = { perWindow: 10_000, windowMs: 60_000, sendRetryAfter: true };
    roblox.fault = (route) => (route === 'inventory' && held ? { hold: held.promise } : undefined);
    guilds = Array.from({ length: SHARDS }, (_, shard) => discord.addGuild(`Shard ${shard}`, { onShard: [shard, SHARDS] }));
    vip = guilds.map((g) => discord.addRole(g.id, 'VIP', { position: 3 }));
    for (let i = 0; i < MEMBERS; i++) {
      const member = { discordId: discord.addUser(`member${i}`), guild: i % SHARDS, owns: i % 10 !== 9 };
      // Nobody holds the role yet: the cycle gives it to every owner.
      discord.addMember(guilds[member.guild]!.id, member.discordId);
      roblox.addUser({ id: String(7000 + i), name: `Member${i}`, items: member.owns ? [{ kind: 'gamepass', id: PASS }] : [] });
      members.push(member);
    }
    databaseUrl = await createPostgresDatabase(TEST_POSTGRES_URL);
    proxyUrl = `http://127.0.0.1:${await freePort()}`;
    httpPort = await freePort();

    // systemd starts every enabled gatepass@N at once; here before the proxy, which they wait for.
    for (let id = 0; id < SHARDS; id++) startShard(id);
    await until(() => shards.every((s) => logged(s, 'waiting for the REST proxy to listen')), 'the shard processes to wait for their proxy', 20_000);
    proxy = startProcess(world, { REST_PROXY_URL: proxyUrl, LOG_FORMAT: 'json' }, 'dist/proxy.mjs');
    // Each migrates in its turn, which spaces them; held at the gateway's HELLO, they identify at the same moment, as they could.
    const hello = gate();
    discord.helloHold = hello.promise;
    await until(() => discord.gatewayConnections === SHARDS, 'the three shard processes to open the gateway', 90_000);
    discord.helloHold = undefined;
    hello.release();
    await until(() => shards.every((s) => logged(s, 'connected to Discord')), 'the three shard processes to connect', 60_000);
    console.log(`three shard processes connected ${Date.now() - t0} ms after the test began`);

    db = openDatabase(databaseUrl);
    await db.bind.createMany({ data: guilds.map((g, s) => ({ guildId: g.id, roleId: vip[s]!, kind: 'gamepass', itemId: PASS, createdBy: g.ownerId })) });
    await db.link.createMany({ data: members.map((m, i) => ({ discordUserId: m.discordId, robloxUserId: String(7000 + i), robloxUsername: `Member${i}` })) });
    queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAME, { connection: queueConnection, prefix: QUEUE_PREFIX });
    await until(() => shards.every((s) => s.lines().some((l) => String(l.msg).startsWith('queue mode: this process takes sync jobs'))), 'the three workers to start', 20_000);
    // Each shard indexes its own server's members; a cycle planned before that would miss some.
    await until(async () => (await db.membership.count({ where: { discordUserId: { in: members.map((m) => m.discordId) } } })) === MEMBERS, 'every shard to index its members', 30_000);
  }, 150_000);

  afterAll(async () => {
    if (!TEST_POSTGRES_URL || !redisAvailable) return;
    held?.release();
    await queue?.close();
    queueConnection?.disconnect();
    for (const p of [...started, proxy]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all([...started, proxy].map((p) => p?.exited));
    await db?.$disconnect();
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    if (world) await destroyWorld(world);
    await redis?.stop();
  }, 60_000);

  test('at the gateway at the same moment, they identify one at a time, at least 5 s apart, each as its own shard, and Discord refuses none', () => {
    const times = world.discord.identifyTimes;
    expect(times.filter((i) => i.refused)).toEqual([]);
    expect(times.map((i) => i.shard).sort()).toEqual([[0, 3], [1, 3], [2, 3]]);
    for (let i = 1; i < times.length; i++) expect(times[i]!.at - times[i - 1]!.at).toBeGreaterThanOrEqual(5_000);
    // The two that were not first waited for their turn in Redis.
    expect(shards.filter((s) => logged(s, 'another shard process identified less than 5 s ago: waiting for our turn'))).toHaveLength(SHARDS - 1);
    for (const [id, s] of shards.entries()) expect(s.lines().find((l) => l.msg === 'connected to Discord')).toMatchObject({ shard: id, shardCount: SHARDS, shards: [id] });
  });

  test('each serves its own server: commands answered, health on HTTP_PORT plus SHARD_ID, every Discord request through the proxy', async () => {
    for (const guild of guilds) expect(await answered(guild)).toBeTruthy();
    for (let id = 0; id < SHARDS; id++) {
      const health = (await (await fetch(`http://127.0.0.1:${httpPort + id}/healthz`)).json()) as { gateway: string; database: string };
      expect(health).toMatchObject({ gateway: 'connected', database: 'ok' });
    }
    // discord.js's Client signs its requests "discord.js/…"; the proxy's bare REST queue does not.
    expect(world.discord.requests.length).toBeGreaterThan(0);
    expect(world.discord.requests.filter((r) => r.userAgent.includes('discord.js/'))).toEqual([]);
  });

  test('one queue for all: with Roblox holding its answers the batches go to more than one process; released, each member is read once and every role is right', async () => {
    const from = world.roblox.requests.length;
    const writesBefore = world.discord.roleWrites.length;
    held = gate();
    await addTick(queue, 'test');
    // Five batches, at most four held by one process's job slots: another process takes at least one.
    const takers = () => shards.filter((s) => s.lines().some((l) => l.msg === 'sync job taken' && l.kind === 'batch'));
    await until(() => takers().length >= 2, 'a second process to take a batch', 30_000);
    const release = held;
    held = undefined;
    release.release();
    await until(async () => (await db.syncRun.count({ where: { NOT: { finishedAt: null } } })) === 1, 'the cycle to finish', 60_000);
    console.log(`batches taken per shard process: ${shards.map((s) => s.lines().filter((l) => l.msg === 'sync job taken' && l.kind === 'batch').length).join(', ')}`);

    const reads = world.roblox.requests.slice(from).filter((r) => r.route === 'inventory');
    expect(new Set(reads.map((r) => r.userId)).size).toBe(MEMBERS);
    expect(reads).toHaveLength(MEMBERS);
    expect(members.every((m) => world.discord.memberRoles(guilds[m.guild]!.id, m.discordId).includes(vip[m.guild]!) === m.owns)).toBe(true);
    const writes = world.discord.roleWrites.slice(writesBefore);
    expect(writes.filter((w) => w.method === 'PUT' && w.status === 204)).toHaveLength(members.filter((m) => m.owns).length);
    expect(writes.filter((w) => w.method !== 'PUT')).toEqual([]);
  }, 120_000);

  test('a shard process killed with SIGKILL and started again, as systemd would, identifies again as its shard and serves its server', async () => {
    const victim = shards[1]!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBeNull();
    const before = accepted().length;
    const restarted = startShard(1);
    await until(() => logged(restarted, 'connected to Discord'), 'shard 1 to connect again', 60_000);
    expect(accepted().slice(before).map((i) => i.shard)).toEqual([[1, 3]]);
    expect(world.discord.identifyTimes.filter((i) => i.refused)).toEqual([]);
    expect(await answered(guilds[1]!)).toBeTruthy();
    // The others kept their sessions.
    expect(accepted().filter((i) => i.shard[0] !== 1)).toHaveLength(SHARDS - 1);
  }, 90_000);

  test('SIGTERM stops every shard process and the proxy cleanly; no secret in any output', async () => {
    for (const p of [...shards, proxy]) p.child.kill('SIGTERM');
    expect(await Promise.all([...shards, proxy].map((p) => p.exited))).toEqual([0, 0, 0, 0]);
    for (const p of [...started, proxy]) {
      expect(p.output()).not.toContain(world.config.discordToken);
      expect(p.output()).not.toContain(world.config.robloxApiKey);
    }
    expectCleanRun(world);
  }, 30_000);
});

describe('a shard process or the proxy with a wrong configuration', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => destroyWorld(world));

  /** Valid multi-process settings (nothing is connected to before the configuration is checked), changed by `env`. */
  const run = async (entry: string, env: Record<string, string>) => {
    const p = startProcess(world, { DATABASE_URL: 'postgresql://gatepass@127.0.0.1:5432/gatepass', REDIS_URL: 'redis://127.0.0.1:6379', SHARD_COUNT: '3', SHARD_ID: '1', REST_PROXY_URL: 'http://127.0.0.1:8950', ...env }, entry);
    return { code: await p.exited, lines: p.output().trim().split('\n') };
  };

  test.each([
    ['SHARD_ID missing', { SHARD_ID: '' }, 'SHARD_ID is required by a shard process: the shard it holds, from 0 to SHARD_COUNT − 1 (gatepass@N.service sets it to N)'],
    ['SHARD_ID equal to SHARD_COUNT', { SHARD_ID: '3' }, 'SHARD_ID must be below SHARD_COUNT (3): shards are numbered from 0 to 2'],
    ['SHARD_ID not a whole number', { SHARD_ID: '1.5' }, 'SHARD_ID must be a whole number: the shard this process holds, from 0 to SHARD_COUNT − 1'],
    ['SHARD_COUNT=auto', { SHARD_COUNT: 'auto' }, "SHARD_COUNT cannot be auto for a shard process run on its own: each would ask Discord separately and they could disagree. Set the number (Discord's recommendation: see README, Run it under systemd)"],
  ])('dist/shard.mjs with %s exits 78 with one line saying what to fix (test/unit/config.test.ts has every case)', async (_, env, problem) => {
    const { code, lines } = await run('dist/shard.mjs', env);
    expect(code).toBe(78);
    expect(lines).toEqual([`Configuration error: ${problem}`]);
  });

  test('dist/proxy.mjs listening beyond loopback exits 78 with one line', async () => {
    const { code, lines } = await run('dist/proxy.mjs', { REST_PROXY_URL: 'http://0.0.0.0:8950' });
    expect(code).toBe(78);
    expect(lines).toEqual(['Configuration error: REST_PROXY_URL must be on the loopback interface (127.0.0.1 or [::1]): the proxy has no authentication of its own']);
  });

  test('npm start with a SHARD_ID exits with one line: it runs every shard itself', async () => {
    const { code, lines } = await run('dist/main.mjs', {});
    expect(code).toBe(1);
    expect(lines).toEqual(['Configuration error: SHARD_ID is only for a shard process run on its own (node dist/shard.mjs, as gatepass@.service runs it); npm start runs every shard itself: unset SHARD_ID']);
  });
});
