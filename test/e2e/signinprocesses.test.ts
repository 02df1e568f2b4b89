// Sign in with Roblox when the bot runs as several processes (queue mode, two shards of one bot in
// this test process, as shards.test.ts runs them): every process serves the sign-in pages behind one
// PUBLIC_URL and Roblox's one redirect URI, so the steps of one sign-in may reach different
// processes. Here a plain load balancer in front of both sends each step where the test says.

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Bot, startBot } from '../../src/bot';
import { createLogger } from '../../src/log';
import { inContext, launchBrowser } from '../browser';
import { type FakeGuild, type InteractionRecord, messageText } from '../fakes/discord';
import { gate } from '../fakes/roblox';
import { bind, createWorld, destroyWorld, expectCleanRun, linkUrl, newMember, startTestBot, until, withOAuth, type World } from '../harness';
import { redisAvailable, startRedis, type TestRedis } from '../redis';

/** Forwards every request to the port `pick` names for its path, and notes who served what. */
async function startBalancer(): Promise<{ url: string; pick: (path: string) => number; served: { path: string; port: number }[]; close(): Promise<void> }> {
  const balancer = { pick: (_path: string): number => 0, served: [] as { path: string; port: number }[] };
  const server: Server = createServer((req, res) => {
    const port = balancer.pick(req.url ?? '/');
    balancer.served.push({ path: req.url ?? '/', port });
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(balancer, { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
}

const PASS = 4501;
let world: World;
let redis: TestRedis;
let browser: Browser;
let balancer: Awaited<ReturnType<typeof startBalancer>>;
/** Shard 0's process holds the server where /verify runs; shard 1's holds none of this test's. */
let home: Bot;
let away: Bot;
let server: FakeGuild;
let vip = '';

describe.skipIf(!redisAvailable)('Sign in with Roblox across processes', () => {
  beforeAll(async () => {
    [world, redis, browser, balancer] = await Promise.all([createWorld(), startRedis(), launchBrowser(), startBalancer()]);
    server = world.discord.addGuild('Shard Zero', { onShard: [0, 2] });
    vip = world.discord.addRole(server.id, 'VIP', { position: 3 });
    world.roblox.addItem('gamepass', String(PASS), 'VIP Pass');
    // Both processes have PUBLIC_URL = the balancer: Roblox and Discord know only its redirects.
    const config = { ...withOAuth(world, 0, balancer.url), httpPort: 0, redisUrl: redis.url };
    // Roblox calls wait long before timing out, so an answer held by a test outlasts the wait.
    const robloxHttp = { timeoutMs: 30_000, backoffBaseMs: 20, maxRetryWaitMs: 5_000 };
    home = await startTestBot(world, config, { shards: { ids: [0], count: 2 }, robloxHttp });
    away = await startBot({ ...world.config, ...config }, { log: createLogger('debug', { write: (line: string) => void world.logs.push(line) }), shards: { ids: [1], count: 2 }, robloxHttp });
    await bind(world, server.id, vip, 'gamepass', PASS);
  }, 90_000);
  afterAll(async () => {
    if (world) expectCleanRun(world);
    await away?.stop();
    await browser?.close();
    await balancer?.close();
    if (world) await destroyWorld(world);
    await redis?.stop();
  });

  const shown = (record: InteractionRecord) => (record.message ? messageText(record.message) : '');
  const link = (discordUserId: string) => home.db.link.findUnique({ where: { discordUserId } });

  /** A member of shard 0's server and their Roblox account, owning the pass; /verify run there. */
  async function startSignIn(name: string, robloxId: string) {
    world.roblox.addUser({ id: robloxId, name: `${name}_rbx`, items: [{ kind: 'gamepass', id: String(PASS) }] });
    const member = newMember(world, server.id, name);
    world.discord.oauth.browserUser = member;
    world.roblox.oauth.browserUser = robloxId;
    const record = world.discord.sendCommand(server.id, member, 'verify');
    await world.discord.answer(record);
    const url = linkUrl(record);
    expect(url.startsWith(`${balancer.url}/oauth/start?state=`)).toBe(true);
    return { member, record, url };
  }

  /** Opens the link, continues, and follows Discord and Roblox back to the callback page. */
  async function signIn(page: Page, url: string): Promise<string> {
    expect((await page.goto(url))?.status()).toBe(200);
    await Promise.all([page.waitForURL(/\/oauth\/callback/), page.click('button[value=continue]')]);
    return page.title();
  }

  const withContext = <T,>(use: (page: Page, context: BrowserContext) => Promise<T>) => inContext(browser, use);

  test('continued on the process that issued the link, finished on the other: linked, and the /verify reply says so', async () => {
    balancer.pick = (path) => (path.startsWith('/oauth/start') ? home.httpPort! : away.httpPort!);
    const { member, record, url } = await startSignIn('alice', '6001');
    expect(await withContext((page) => signIn(page, url))).toContain('Linked to alice_rbx');
    expect(balancer.served.filter((s) => s.path.startsWith('/oauth/callback')).map((s) => s.port)).toEqual([away.httpPort]);
    expect(await link(member)).toMatchObject({ robloxUserId: '6001', method: 'oauth' });
    await until(() => world.discord.memberRoles(server.id, member).includes(vip), 'the role');
    // The reply lives in shard 0's process; shard 1's finished the sign-in and told it.
    await until(() => shown(record).includes('Linked to alice_rbx'), 'the /verify reply to be updated');
    expect(shown(record)).toContain('signed in with Roblox as **alice_rbx**');
    expect(record.message!.components).toEqual([]);
  });

  test('finished wholly on the other process: the member sees where they stand while Roblox is asked, and the sign-in is spent for every process', async () => {
    balancer.pick = () => away.httpPort!;
    const { member, record, url } = await startSignIn('bob', '6002');
    const held = gate();
    const exchanges = world.roblox.count('token');
    world.roblox.fault = (route) => (route === 'token' ? { hold: held.promise } : undefined);
    let callback = '';
    let finished: Promise<{ title: string; replay: { status?: number; title: string } }> | undefined;
    try {
      finished = withContext(async (page) => {
        const title = await signIn(page, url);
        callback = page.url();
        // The same browser, the same callback, now at the process that issued the link.
        balancer.pick = () => home.httpPort!;
        const replay = await page.goto(callback);
        return { title, replay: { status: replay?.status(), title: await page.title() } };
      });
      await until(() => world.roblox.count('token') > exchanges || /Asking Roblox now to finish your sign-in/.test(shown(record)), 'the code exchange to reach Roblox', 20_000);
      await until(() => /Asking Roblox now to finish your sign-in/.test(shown(record)), 'the /verify reply to say Roblox is being asked', 20_000);
      expect(await link(member)).toBeNull();
      held.release();
      const { title, replay } = await finished;
      expect(title).toContain('Linked to bob_rbx');
      expect(replay.status).toBe(400);
      expect(replay.title).toContain('no longer works');
    } finally {
      held.release();
      await finished?.catch(() => undefined);
      world.roblox.fault = undefined;
    }
    // One code, exchanged once: the replay at the other process never reached Roblox.
    expect([...world.roblox.oauth.codes.values()].filter((c) => c.userId === '6002').map((c) => c.used)).toEqual([true]);
    await until(() => shown(record).includes('Linked to bob_rbx'), 'the /verify reply to say linked');
    expect(record.timeline.at(-1)!.interim).toBe(false); // no notice lands after the answer
    expect(await link(member)).toMatchObject({ robloxUserId: '6002', method: 'oauth' });
  });
});
