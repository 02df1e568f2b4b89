// npm run migrate-to-postgres: a SQLite database filled through the bot's own commands is copied to
// PostgreSQL, and the bot started on PostgreSQL has the same links, binds, grants and outcomes.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../../src/database/client';
import { seal, unseal } from '../../src/oauth/sealing';
import { createPostgresDatabase, dropTestDatabase, TEST_POSTGRES_URL } from '../database';
import { bind, createWorld, destroyWorld, expectCleanRun, newMember, startTestBot, TOKEN_KEY_HEX, verifyByProfile, type World } from '../harness';

const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/migrate-to-postgres.ts', ...args], { env: { ...process.env, DOTENV_CONFIG_PATH: '/nonexistent' } }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
  );

let world: World | undefined;
let postgresUrl: string | undefined;
afterAll(async () => {
  if (world) await destroyWorld(world);
  if (postgresUrl) await dropTestDatabase(postgresUrl);
});

if (!TEST_POSTGRES_URL) console.log('topostgres.test.ts: skipped, it needs a PostgreSQL server (set TEST_POSTGRES_URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres)');

describe.skipIf(!TEST_POSTGRES_URL)('migrate-to-postgres', () => {
  test('copies everything, refuses a second copy, and the bot carries on from PostgreSQL', async () => {
    world = await createWorld();
    await dropTestDatabase(world.config.databaseUrl); // the world's own, when the suite runs on PostgreSQL
    const sqliteUrl = `file:${join(world.dir, 'gatepass.db')}`;
    world.config.databaseUrl = sqliteUrl;
    const { discord, roblox, guild } = world;
    const vip = discord.addRole(guild.id, 'VIP', { position: 3 });
    const badge = discord.addRole(guild.id, 'Badge', { position: 2 });
    roblox.addItem('gamepass', '1001', 'VIP Pass');
    roblox.addItem('badge', '2002', 'Early Badge');
    roblox.addItem('badge', '3003', 'Late Badge');
    const members = ['ann', 'bob', 'cat'].map((name, i) => {
      roblox.addUser({ id: String(9100 + i), name: `${name}_rbx`, items: i < 2 ? [{ kind: 'gamepass', id: '1001' }] : [] });
      return newMember(world!, guild.id, name);
    });
    await startTestBot(world);
    expect(await bind(world, guild.id, vip, 'gamepass', 1001)).toContain(`Bound <@&${vip}> to game pass VIP Pass (1001)`);
    expect(await bind(world, guild.id, badge, 'badge', 2002)).toContain('badge Early Badge (2002)');
    for (const [i, member] of members.entries()) await verifyByProfile(world, guild.id, member, String(9100 + i));
    const key = Buffer.from(TOKEN_KEY_HEX, 'hex');
    await world.bot!.db.oAuthGrant.create({
      data: { discordUserId: members[0]!, robloxUserId: '9100', refreshToken: seal(key, 'refresh-token-1', members[0]!), scopes: 'openid profile', status: 'active', updatedAt: new Date() },
    });
    const before = await snapshot(world.bot!.db);
    expect(before.links).toHaveLength(3);
    expect(before.outcomes.length).toBeGreaterThan(0);
    expect(discord.memberRoles(guild.id, members[0]!)).toEqual([vip]);
    await world.bot!.stop();
    world.bot = undefined;

    postgresUrl = await createPostgresDatabase(TEST_POSTGRES_URL as string);
    const first = await run([sqliteUrl, postgresUrl]);
    expect(first.output).toMatch(/Link: 3\n/);
    expect(first.code).toBe(0);
    const again = await run([sqliteUrl, postgresUrl]);
    expect(again.code).toBe(1);
    expect(again.output).toMatch(/not empty \(\d+ Link rows\)/);
    expect((await run([postgresUrl, sqliteUrl])).code).toBe(2);

    const copy = openDatabase(postgresUrl);
    try {
      expect(await snapshot(copy)).toEqual(before);
      const grant = await copy.oAuthGrant.findUniqueOrThrow({ where: { discordUserId: members[0]! } });
      expect(unseal(key, grant.refreshToken, members[0]!)).toBe('refresh-token-1');
    } finally {
      await copy.$disconnect();
    }

    world.config.databaseUrl = postgresUrl;
    await startTestBot(world); // re-reads the server's members: only seenAt may move
    const db = world.bot!.db;
    const after = await snapshot(db);
    expect({ ...after, memberships: after.memberships.map(({ seenAt: _, ...row }) => row) }).toEqual({ ...before, memberships: before.memberships.map(({ seenAt: _, ...row }) => row) });
    // The copied ids do not collide with new ones, and a full run on PostgreSQL changes no role.
    const writes = discord.roleWrites.length;
    await world.bot!.runs.runAll('test');
    expect(discord.roleWrites.length).toBe(writes);
    expect(discord.memberRoles(guild.id, members[0]!)).toEqual([vip]);
    expect(discord.memberRoles(guild.id, members[2]!)).toEqual([]);
    expect(await bind(world, guild.id, badge, 'badge', 3003)).toContain('badge Late Badge (3003)');
    expect(await db.bind.count()).toBe(3);
    expectCleanRun(world);
  }, 120_000);
});

async function snapshot(db: ReturnType<typeof openDatabase>) {
  return {
    links: await db.link.findMany({ orderBy: { discordUserId: 'asc' } }),
    binds: await db.bind.findMany({ orderBy: { id: 'asc' } }),
    outcomes: await db.outcome.findMany({ orderBy: [{ robloxUserId: 'asc' }, { kind: 'asc' }, { itemId: 'asc' }] }),
    memberships: await db.membership.findMany({ orderBy: [{ guildId: 'asc' }, { discordUserId: 'asc' }] }),
    followed: await db.memberSync.findMany({ orderBy: [{ guildId: 'asc' }, { discordUserId: 'asc' }] }),
    runs: await db.syncRun.findMany({ orderBy: { id: 'asc' } }),
    settings: await db.serverSettings.findMany({ orderBy: { guildId: 'asc' } }),
  };
}
