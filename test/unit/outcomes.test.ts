// The sync's outcome storage bypasses Prisma's row mapping for speed, so these check against a real
// migrated database that what it writes is exactly what Prisma itself would write and read.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { among, type Database, migrateDatabase, openDatabase } from '../../src/database/client';
import { type Answer, joinAnswers, loadOutcomes, saveOutcomeChanges, splitAnswers } from '../../src/database/outcomes';
import type { Tally } from '../../src/ownership';
import { dropTestDatabase, testDatabaseUrl } from '../database';

let dir: string;
let url: string;
let db: Database;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatepass-outcomes-'));
  url = await testDatabaseUrl(dir, 'test.db');
  await migrateDatabase(url);
  db = openDatabase(url);
});
afterAll(async () => {
  await db.$disconnect();
  await dropTestDatabase(url);
  rmSync(dir, { recursive: true, force: true });
});

const save = (robloxUserId: string, outcomes: Record<string, Answer>, at: Date) =>
  db.$transaction(async (tx) => {
    const previous = await loadOutcomes(db, [robloxUserId]);
    await saveOutcomeChanges(tx, [{ robloxUserId, outcomes: new Map(Object.entries(outcomes)) }], previous, at);
  });

describe('stored outcomes', () => {
  const t1 = new Date('2026-11-20T10:00:00.123Z');
  const t2 = new Date('2026-11-21T10:00:00.456Z');

  test('are written as Prisma writes them and read back as they were saved', async () => {
    await save('1', { 'gamepass:10': { status: 'owns' }, 'badge:20': { status: 'not_owned' }, 'asset:30': { status: 'unknown', reason: 'private inventory' } }, t1);
    // Prisma's own reading of the rows, field by field, including the DateTime.
    const rows = await db.outcome.findMany({ where: { robloxUserId: '1' }, orderBy: { kind: 'asc' } });
    expect(rows).toEqual([
      { robloxUserId: '1', kind: 'asset', itemId: '30', status: 'unknown', reason: 'private inventory', count: null, since: t1 },
      { robloxUserId: '1', kind: 'badge', itemId: '20', status: 'not_owned', reason: null, count: null, since: t1 },
      { robloxUserId: '1', kind: 'gamepass', itemId: '10', status: 'owns', reason: null, count: null, since: t1 },
    ]);
    // Stored in the same form as a DateTime Prisma writes, so the column sorts and compares as one.
    await db.link.create({ data: { discordUserId: 'd1', robloxUserId: '1', robloxUsername: 'one', checkedAt: t1 } });
    const [forms] = await db.$queryRaw<{ ours: string; prismas: string }[]>`
      SELECT (SELECT CAST("since" AS TEXT) FROM "Outcome" WHERE "robloxUserId" = '1' LIMIT 1) AS "ours", (SELECT CAST("checkedAt" AS TEXT) FROM "Link" WHERE "discordUserId" = 'd1') AS "prismas"`;
    expect(forms?.ours).toBe(forms?.prismas);

    const loaded = await loadOutcomes(db, ['1', '2']);
    expect(loaded.get('2')).toEqual(new Map());
    expect(loaded.get('1')).toEqual(
      new Map([
        ['gamepass:10', { outcome: { status: 'owns' }, since: t1 }],
        ['badge:20', { outcome: { status: 'not_owned' }, since: t1 }],
        ['asset:30', { outcome: { status: 'unknown', reason: 'private inventory' }, since: t1 }],
      ]),
    );
  });

  test('only changed answers are rewritten: an unchanged one keeps its since, a new reason counts as a change', async () => {
    await save('1', { 'gamepass:10': { status: 'owns' }, 'badge:20': { status: 'owns' }, 'asset:30': { status: 'unknown', reason: 'rate limited' }, 'badge:40': { status: 'not_owned' } }, t2);
    const loaded = (await loadOutcomes(db, ['1'])).get('1')!;
    expect(loaded.get('gamepass:10')).toEqual({ outcome: { status: 'owns' }, since: t1 });
    expect(loaded.get('badge:20')).toEqual({ outcome: { status: 'owns' }, since: t2 });
    expect(loaded.get('asset:30')).toEqual({ outcome: { status: 'unknown', reason: 'rate limited' }, since: t2 });
    expect(loaded.get('badge:40')).toEqual({ outcome: { status: 'not_owned' }, since: t2 });
    expect(await db.outcome.count()).toBe(4);
  });

  test('ids go into the query as data, never as SQL', async () => {
    const hostile = `1') OR 1=1; DROP TABLE "Outcome"; --`;
    expect((await loadOutcomes(db, [hostile])).get(hostile)).toEqual(new Map());
    const rows = await db.$queryRaw<{ robloxUserId: string }[]>`SELECT "robloxUserId" FROM "Outcome" WHERE ${among(db, 'robloxUserId', ['1', hostile])}`;
    expect(new Set(rows.map((r) => r.robloxUserId))).toEqual(new Set(['1']));
  });

  test('a batch far past SQLite’s parameter limit is one query', async () => {
    const ids = Array.from({ length: 40_000 }, (_, i) => String(100_000 + i));
    const loaded = await loadOutcomes(db, [...ids, '1']);
    expect(loaded.size).toBe(40_001);
    expect(loaded.get('1')?.size).toBe(4);
  });

  test('collectible tallies are stored beside outcomes, counts and lower bounds included, and change only when they do', async () => {
    const tallies = new Map<string, Tally>([
      ['*', { status: 'counted', count: 12, complete: true }],
      ['FACE,HAT', { status: 'counted', count: 3, complete: false }],
      ['GEAR', { status: 'unknown', reason: 'inventory is private' }],
    ]);
    await save('5', Object.fromEntries(joinAnswers(new Map([['badge:1', { status: 'owns' }]]), tallies)), t1);
    const rows = await db.outcome.findMany({ where: { robloxUserId: '5', kind: 'collectibles' }, orderBy: { itemId: 'asc' } });
    expect(rows).toEqual([
      { robloxUserId: '5', kind: 'collectibles', itemId: '*', status: 'counted', reason: null, count: 12, since: t1 },
      { robloxUserId: '5', kind: 'collectibles', itemId: 'FACE,HAT', status: 'at_least', reason: null, count: 3, since: t1 },
      { robloxUserId: '5', kind: 'collectibles', itemId: 'GEAR', status: 'unknown', reason: 'inventory is private', count: null, since: t1 },
    ]);
    const loaded = splitAnswers([...(await loadOutcomes(db, ['5'])).get('5')!].map(([key, s]) => [key, s.outcome]));
    expect(loaded.tallies).toEqual(tallies);
    expect(loaded.outcomes).toEqual(new Map([['badge:1', { status: 'owns' }]]));
    // The same count keeps its since; a new count is a change.
    await save('5', { 'collectibles:*': { status: 'counted', count: 12, complete: true }, 'collectibles:FACE,HAT': { status: 'counted', count: 4, complete: true } }, t2);
    const after = await db.outcome.findMany({ where: { robloxUserId: '5', kind: 'collectibles' }, orderBy: { itemId: 'asc' } });
    expect(after.map((r) => [r.itemId, r.status, r.count, r.since])).toEqual([
      ['*', 'counted', 12, t1],
      ['FACE,HAT', 'counted', 4, t2],
      ['GEAR', 'unknown', null, t1],
    ]);
  });
});
