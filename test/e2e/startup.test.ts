import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import { StartupError } from '../../src/bot';
import { freePort } from '../browser';
import { openDatabase } from '../../src/database/client';
import { createWorld, destroyWorld, expectCleanRun, startProcess, startTestBot, until, type World } from '../harness';

let world: World | undefined;
afterEach(async () => {
  if (world) await destroyWorld(world);
  world = undefined;
});

describe('start-up', () => {
  test('a missing Server Members intent stops the bot with instructions', async () => {
    world = await createWorld();
    world.discord.membersIntentAllowed = false;
    const failure = await startTestBot(world).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toMatch(/Server Members intent.*Developer Portal.*Bot.*Privileged Gateway Intents.*Server Members Intent/);
    world.bot = undefined;
  });

  test('a wrong token stops the bot with a clear message and no token in it', async () => {
    world = await createWorld();
    const wrong = `${world.config.discordToken.slice(0, -4)}XXXX`;
    const failure = await startTestBot(world, { discordToken: wrong }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StartupError);
    expect((failure as Error).message).toMatch(/Discord rejected DISCORD_TOKEN/);
    expect((failure as Error).message).not.toContain(wrong);
    world.bot = undefined;
  });

  test('creates the database folder, migrates, and registers commands only when they differ', async () => {
    world = await createWorld();
    world.config.databaseUrl = `file:${join(world.dir, 'nested', 'deeper', 'gatepass.db')}`;
    await startTestBot(world);
    expect(world.discord.commandPuts).toBe(1);
    await world.bot!.stop();
    await startTestBot(world);
    expect(world.discord.commandPuts).toBe(1); // unchanged definitions: a boot sends nothing
    expect(world.discord.requests.filter((r) => r.template === '/applications/{application_id}/commands' && r.method === 'GET')).toHaveLength(2);
    expectCleanRun(world);
  });

  test('a Discord that cannot be reached: one plain line saying so, and exit 1', async () => {
    world = await createWorld();
    const closed = await freePort();
    const { exited, output } = startProcess(world, { DISCORD_API_BASE_URL: `http://127.0.0.1:${closed}/api` });
    expect(await exited).toBe(1);
    expect(output().trim().split('\n')).toEqual([
      `Cannot reach Discord at http://127.0.0.1:${closed}/api (connect ECONNREFUSED 127.0.0.1:${closed}): check this machine's network and DNS, and DISCORD_API_BASE_URL.`,
    ]);
  });

  test('a Roblox that cannot be reached: the bot starts anyway and says so in one line', async () => {
    world = await createWorld();
    const closed = `http://127.0.0.1:${await freePort()}`;
    await startTestBot(world, { robloxApiBaseUrl: closed, robloxUsersApiBaseUrl: closed });
    const said = world.logs.filter((line) => line.includes('Cannot reach'));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!)).toMatchObject({
      level: 40,
      msg: expect.stringMatching(new RegExp(`^Cannot reach Roblox at ${closed} \\(connect ECONNREFUSED [\\d.:]+\\): .*ROBLOX_API_BASE_URL.*no role is changed\\.$`)),
    });
    expect(said[0]).not.toContain('"err"'); // a sentence, not an error object with a stack
    expect(world.logs.some((line) => line.includes('connected to Discord'))).toBe(true);
  });

  test('npm start with a bad environment prints one line naming the variable', async () => {
    const run = promisify(execFile)('npm', ['start', '--silent'], {
      env: { PATH: process.env.PATH, DISCORD_TOKEN: 'abc', ROBLOX_API_KEY: 'k', SYNC_CRON: 'nope', DOTENV_CONFIG_PATH: '/nonexistent' },
    });
    const failure = (await run.catch((error: unknown) => error)) as { code: number; stderr: string };
    expect(failure.code).toBe(1);
    const lines = failure.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^Configuration error: DISCORD_TOKEN does not look like a bot token.*SYNC_CRON is not a valid cron expression/)]);
  });
});

describe('npm run deploy-commands', () => {
  test('--guild registers every command in that server at once; a bad --guild is refused', async () => {
    world = await createWorld();
    const env = { PATH: process.env.PATH, DOTENV_CONFIG_PATH: '/nonexistent', DISCORD_TOKEN: world.config.discordToken, ROBLOX_API_KEY: world.config.robloxApiKey, DISCORD_API_BASE_URL: world.config.discordApiBaseUrl };
    const run = (args: string[]) => promisify(execFile)(process.execPath, ['dist/deploy-commands.mjs', ...args], { env }).catch((error: unknown) => error as { code: number; stdout: string; stderr: string });
    const done = (await run(['--guild', world.guild.id])) as { stdout: string };
    expect(done.stdout).toContain(`Registered 8 commands in server ${world.guild.id}`);
    const put = world.discord.requests.filter((r) => r.method === 'PUT' && r.template === '/applications/{application_id}/guilds/{guild_id}/commands');
    expect(put).toEqual([expect.objectContaining({ status: 200, path: `/applications/${world.discord.applicationId}/guilds/${world.guild.id}/commands` })]);
    const refused = (await run(['--guild', 'nope'])) as { code: number; stderr: string };
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--guild needs a server id');
  });
});

describe('shutdown', () => {
  test('SIGTERM: stops taking work, closes cleanly and exits 0 within a few seconds', async () => {
    world = await createWorld();
    const { child, exited, output } = startProcess(world);
    await until(() => output().includes('connected to Discord'), 'the bot to connect', 30_000);
    const signalled = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(output()).toContain('"signal":"SIGTERM"');
    expect(output()).not.toContain(world.config.discordToken);
    expect(output()).not.toContain(world.config.robloxApiKey);
  });
});

describe('restarts', () => {
  test('killed with SIGKILL in the middle of a run: the next start finishes it and loses nothing', async () => {
    world = await createWorld();
    const { discord, roblox, guild } = world;
    const vip = discord.addRole(guild.id, 'VIP', { position: 3 });
    const members = Array.from({ length: 12 }, (_, i) => {
      const member = discord.addUser(`k${i}`);
      discord.addMember(guild.id, member);
      roblox.addUser({ id: String(8100 + i), name: `Killed${i}`, items: [{ kind: 'gamepass', id: '1001' }] });
      return member;
    });
    await startTestBot(world); // creates and migrates the database
    const setup = world.bot!.db;
    await setup.bind.create({ data: { guildId: guild.id, roleId: vip, kind: 'gamepass', itemId: '1001', createdBy: guild.ownerId } });
    for (const [i, member] of members.entries()) await setup.link.create({ data: { discordUserId: member, robloxUserId: String(8100 + i), robloxUsername: `Killed${i}` } });
    await world.bot!.stop();
    world.bot = undefined;

    roblox.fault = (route) => (route === 'inventory' ? { delayMs: 150 } : undefined);
    const { child, exited } = startProcess(world);
    const db = openDatabase(world.config.databaseUrl);
    try {
      await until(() => roblox.count('inventory') >= 3, 'the scheduled run to be under way', 30_000);
      child.kill('SIGKILL');
      expect(await exited).toBeNull();
      expect(await db.syncRun.count({ where: { finishedAt: null } })).toBe(1); // cut off mid-run
    } finally {
      await db.$disconnect();
    }

    roblox.fault = undefined;
    await startTestBot(world); // resumes the open run at once
    await until(async () => (await world!.bot!.db.link.count({ where: { checkedAt: null } })) === 0, 'every member to be checked', 20_000);
    await until(async () => (await world!.bot!.db.syncRun.count({ where: { finishedAt: null } })) === 0, 'the run to be closed', 20_000);
    for (const member of members) expect(discord.memberRoles(guild.id, member)).toEqual([vip]);
    expect(await world.bot!.db.link.count()).toBe(12);
    expect(await world.bot!.db.bind.count()).toBe(1);
  });

  test('a restart in the middle of a run loses nothing: the next start completes it, checking each member once', async () => {
    world = await createWorld();
    const { discord, roblox, guild } = world;
    const vip = discord.addRole(guild.id, 'VIP', { position: 3 });
    const members: string[] = [];
    for (let i = 0; i < 12; i++) {
      const member = discord.addUser(`m${i}`);
      discord.addMember(guild.id, member); // before the bot connects: no join-time sync
      roblox.addUser({ id: String(8000 + i), name: `Member${i}`, items: [{ kind: 'gamepass', id: '1001' }] });
      members.push(member);
    }
    await startTestBot(world);
    const db = world.bot!.db;
    await db.bind.create({ data: { guildId: guild.id, roleId: vip, kind: 'gamepass', itemId: '1001', createdBy: guild.ownerId } });
    for (const [i, member] of members.entries()) {
      await db.link.create({ data: { discordUserId: member, robloxUserId: String(8000 + i), robloxUsername: `Member${i}` } });
    }
    roblox.fault = (route) => (route === 'inventory' ? { delayMs: 100 } : undefined);
    const firstRun = world.bot!.runs.runAll('test');
    await until(() => roblox.count('inventory') >= 3, 'a few members checked');
    await world.bot!.stop(); // as on SIGTERM: the member in hand finishes, the run stays open
    await firstRun;
    const open = await world.bot!.db.syncRun.findFirst({ where: { finishedAt: null } });
    expect(open).not.toBeNull();
    const checkedBefore = roblox.count('inventory');
    expect(checkedBefore).toBeGreaterThanOrEqual(3);
    expect(checkedBefore).toBeLessThan(12);

    await startTestBot(world); // resumes the open run at once
    await until(async () => (await world!.bot!.db.syncRun.count({ where: { id: open!.id, NOT: { finishedAt: null } } })) === 1, 'the resumed run to finish', 20_000);
    const perUser = new Map<string, number>();
    for (const r of roblox.requests.filter((q) => q.route === 'inventory')) perUser.set(r.userId!, (perUser.get(r.userId!) ?? 0) + 1);
    expect([...perUser.values()]).toEqual(Array(12).fill(1));
    for (const member of members) expect(discord.memberRoles(guild.id, member)).toEqual([vip]);
    expect(await world.bot!.db.link.count()).toBe(12);
    expect(await world.bot!.db.bind.count()).toBe(1);
    expectCleanRun(world);
  });
});
