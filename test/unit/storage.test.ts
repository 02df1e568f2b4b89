// The raw SQL that SQLite and PostgreSQL spell differently, run on both: the same calls must leave
// the same rows and give the same answers. PostgreSQL runs when TEST_POSTGRES_URL names a server.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Database, migrateDatabase, openDatabase } from '../../src/database/client';
import { currentLink, linksAmong, markChecked, stalestUnchecked } from '../../src/database/links';
import { loadFollowed, saveFollowChanges } from '../../src/database/membersync';
import { countLinkedMembersOf, dropUnseen, forgetServers, linkedMembersOf, markAbsent, markPresent, membersOf, serversNotAmong, serversOf } from '../../src/database/memberships';
import { saveSettings, syncSettings } from '../../src/database/settings';
import { MIGRATION_LOCK, migrationsApplied } from '../../src/database/postgres';
import { createPostgresDatabase, dropTestDatabase, TEST_POSTGRES_URL } from '../database';
import { until } from '../harness';

const engines = TEST_POSTGRES_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
if (!TEST_POSTGRES_URL) console.log('storage.test.ts: PostgreSQL skipped (set TEST_POSTGRES_URL to a server, e.g. postgresql://postgres@127.0.0.1:5432/postgres)');

describe.each(engines)('storage on %s', (engine) => {
  let dir: string;
  let url: string;
  let db: Database;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatepass-storage-'));
    url = engine === 'postgres' ? await createPostgresDatabase(TEST_POSTGRES_URL as string) : `file:${join(dir, 'test.db')}`;
    await migrateDatabase(url);
    db = openDatabase(url);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await dropTestDatabase(url);
    rmSync(dir, { recursive: true, force: true });
  });

  const t1 = new Date('2026-11-20T10:00:00.123Z');
  const t2 = new Date('2026-11-21T10:00:00.456Z');

  test('the membership index: present, absent, unseen, forgotten', async () => {
    await markPresent(db, 'g1', ['a', 'b', 'c'], t1);
    await markPresent(db, 'g2', ['a'], t1);
    await markPresent(db, 'g1', ['a'], t2);
    expect(await serversOf(db, ['a', 'b', 'z'])).toEqual(new Map([['a', ['g1', 'g2']], ['b', ['g1']]]));
    expect((await db.membership.findUnique({ where: { guildId_discordUserId: { guildId: 'g1', discordUserId: 'a' } } }))?.seenAt).toEqual(t2);
    await markAbsent(db, 'g1', ['b']);
    expect(await dropUnseen(db, 'g1', t2)).toBe(1); // c, seen only at t1
    expect(await serversOf(db, ['a', 'b', 'c'])).toEqual(new Map([['a', ['g1', 'g2']]]));
    expect(await serversNotAmong(db, ['g1'])).toEqual(['g2']);
    await forgetServers(db, ['g2']);
    expect(await serversNotAmong(db, [])).toEqual(['g1']);
  });

  test('followed members: drop and upsert in one statement each', async () => {
    await db.$transaction((tx) => saveFollowChanges(tx, [], [{ guildId: 'g1', discordUserId: 'a', problem: null }, { guildId: 'g1', discordUserId: 'b', problem: 'missing permissions' }], t1));
    await db.$transaction((tx) => saveFollowChanges(tx, [{ guildId: 'g1', discordUserId: 'a', problem: null }], [{ guildId: 'g1', discordUserId: 'b', problem: null }], t2));
    expect(await loadFollowed(db, ['a', 'b'])).toEqual([{ guildId: 'g1', discordUserId: 'b', problem: null }]);
    expect((await db.memberSync.findMany()).map((row) => row.since)).toEqual([t2]);
  });

  test('links: read and marked by lists, never-checked first', async () => {
    for (const [n, linkedAt] of [[1, t1], [2, t2], [3, t1]] as const) {
      await db.link.create({ data: { discordUserId: `d${n}`, robloxUserId: `r${n}`, robloxUsername: `user${n}`, linkedAt } });
    }
    await markChecked(db, ['d1'], t2);
    expect(await linksAmong(db, ['d1', 'd2', `x') OR 1=1 --`])).toEqual(new Map([['d1', 'r1'], ['d2', 'r2']]));
    expect(await stalestUnchecked(db, new Date('2026-12-01T00:00:00Z'), 10)).toEqual(['d3', 'd2', 'd1']);
  });

  test("a server's members in pages, its linked ones counted, a link read with its display name", async () => {
    await db.link.update({ where: { discordUserId: 'd2' }, data: { robloxDisplayName: 'Two' } });
    await markPresent(db, 'g9', ['d1', 'd2', 'x1', 'x2', 'd3'], t1);
    expect(await membersOf(db, 'g9', '', 2)).toEqual(['d1', 'd2']);
    expect(await membersOf(db, 'g9', 'd2', 2)).toEqual(['d3', 'x1']);
    expect(await linkedMembersOf(db, 'g9', 'd1', 10)).toEqual(['d2', 'd3']);
    expect(await countLinkedMembersOf(db, 'g9')).toBe(3);
    expect(await currentLink(db, 'd2')).toEqual({ robloxUserId: 'r2', robloxUsername: 'user2', robloxDisplayName: 'Two' });
    expect(await currentLink(db, 'd1')).toEqual({ robloxUserId: 'r1', robloxUsername: 'user1', robloxDisplayName: null });
  });

  test('settings a sync keeps: the unverified role and nicknames, only of servers that set them', async () => {
    await saveSettings(db, 's1', { unverifiedRoleId: 'u1' });
    await saveSettings(db, 's2', { nicknameTemplate: '{roblox-name}', nicknameBypassRoleId: 'b2' });
    await saveSettings(db, 's3', { unverifiedRoleId: null });
    const { unverified, nicknames } = await syncSettings(db, ['s1', 's2', 's3', 's4']);
    expect(unverified).toEqual(new Map([['s1', 'u1']]));
    expect(nicknames).toEqual(new Map([['s2', { template: '{roblox-name}', bypassRoleId: 'b2' }]]));
  });
});

describe.skipIf(!TEST_POSTGRES_URL)('PostgreSQL start-up', () => {
  test('a missing database is one plain line, without the password', async () => {
    const url = new URL(TEST_POSTGRES_URL as string);
    url.username = 'postgres';
    url.password = 'hunter2';
    url.pathname = '/gatepass_never_created';
    const failure = await migrateDatabase(url.toString()).then(() => undefined, (error: Error) => error.message);
    expect(failure).toMatch(/^the PostgreSQL database in DATABASE_URL does not exist: create it first/);
    expect(failure).not.toContain('\n');
    expect(failure).not.toContain('hunter2');
  });

  test('processes starting together migrate in turns: a migration waits as long as another holds the turn, and runs once it is released', async () => {
    const url = await createPostgresDatabase(TEST_POSTGRES_URL as string);
    // This test plays the process whose migration is under way.
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      let done = false;
      const migrating = migrateDatabase(url).then(() => (done = true));
      // pg_locks is the whole server's: only this test's database counts.
      const waiting = async () => (await other.query("SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted")).rowCount === 1;
      await until(waiting, 'the migration to wait for its turn', 20_000);
      expect(done).toBe(false);
      expect((await other.query("SELECT to_regclass('_prisma_migrations') AS t")).rows[0].t).toBeNull();
      await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      await migrating;
      expect((await other.query('SELECT count(*)::int AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL')).rows[0].n).toBeGreaterThan(0);
    } finally {
      await other.end();
      await dropTestDatabase(url);
    }
  });

  test("a database with every migration applied is started without Prisma's CLI; a missing or failed one is left to it", async () => {
    const url = await createPostgresDatabase(TEST_POSTGRES_URL as string);
    const folder = 'prisma/postgres/migrations';
    const client = new pg.Client({ connectionString: url });
    try {
      expect(await migrationsApplied(url, folder)).toBe(false); // no history yet
      await migrateDatabase(url);
      expect(await migrationsApplied(url, folder)).toBe(true);
      await client.connect();
      const last = readdirSync(folder).filter((name) => !name.includes('.')).sort().at(-1);
      const row = await client.query('DELETE FROM _prisma_migrations WHERE migration_name = $1 RETURNING *', [last]);
      expect(await migrationsApplied(url, folder)).toBe(false);
      await client.query('INSERT INTO _prisma_migrations SELECT * FROM json_populate_record(NULL::_prisma_migrations, $1)', [JSON.stringify({ ...row.rows[0], finished_at: null })]);
      expect(await migrationsApplied(url, folder)).toBe(false);
    } finally {
      await client.end();
      await dropTestDatabase(url);
    }
  });

  test('both migration histories build the same tables and columns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatepass-columns-'));
    const sqliteUrl = `file:${join(dir, 'test.db')}`;
    const postgresUrl = await createPostgresDatabase(TEST_POSTGRES_URL as string);
    try {
      await Promise.all([migrateDatabase(sqliteUrl), migrateDatabase(postgresUrl)]);
      const sqlite = openDatabase(sqliteUrl);
      const postgres = openDatabase(postgresUrl);
      const sqliteColumns = await sqlite.$queryRaw<{ c: string }[]>`
        SELECT m.name || '.' || p.name AS "c" FROM sqlite_master m, pragma_table_info(m.name) p
        WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_prisma_migrations' ORDER BY 1`;
      const postgresColumns = await postgres.$queryRaw<{ c: string }[]>`
        SELECT table_name || '.' || column_name AS "c" FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY 1`;
      await Promise.all([sqlite.$disconnect(), postgres.$disconnect()]);
      expect(postgresColumns.map((row) => row.c).sort()).toEqual(sqliteColumns.map((row) => row.c).sort());
      expect(sqliteColumns.length).toBeGreaterThan(30);
    } finally {
      await dropTestDatabase(postgresUrl);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
