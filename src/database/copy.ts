// Copies a SQLite database into an empty PostgreSQL one, row for row through Prisma (so every value
// is read and written as the bot itself reads and writes it), then checks the counts.

import type { Prisma } from '../generated/prisma/client';
import { type Database, isPostgres } from './client';

/**
 * Each model and the fields that order it, for reading it in pages. Keyed by every model name, so a
 * new model does not compile until it is listed here and therefore copied.
 */
const ORDER: Record<Prisma.ModelName, readonly string[]> = {
  Link: ['discordUserId'],
  OAuthGrant: ['discordUserId'],
  OAuthState: ['state'],
  Verification: ['id'],
  Bind: ['id'],
  Outcome: ['robloxUserId', 'kind', 'itemId'],
  MemberSync: ['guildId', 'discordUserId'],
  SyncRun: ['id'],
  ServerSettings: ['guildId'],
  Membership: ['guildId', 'discordUserId'],
};

const PAGE = 2_000;

interface Delegate {
  count(): Promise<number>;
  findMany(args: { orderBy: Record<string, 'asc'>[]; skip: number; take: number }): Promise<object[]>;
  createMany(args: { data: object[] }): Promise<unknown>;
}

const delegate = (db: Database, model: Prisma.ModelName) => (db as unknown as Record<string, Delegate>)[model.charAt(0).toLowerCase() + model.slice(1)] as Delegate;

/** Rows per model, for the report. Refuses a target holding anything: a copy never merges. */
export async function copyDatabase(source: Database, target: Database): Promise<Map<Prisma.ModelName, number>> {
  if (!isPostgres(target)) throw new Error('the target must be a PostgreSQL database');
  const models = Object.keys(ORDER) as Prisma.ModelName[];
  for (const model of models) {
    const present = await delegate(target, model).count();
    if (present > 0) throw new Error(`the PostgreSQL database is not empty (${present} ${model} rows): copy only into a new, migrated database`);
  }
  const copied = new Map<Prisma.ModelName, number>();
  for (const model of models) {
    const orderBy = ORDER[model].map((field) => ({ [field]: 'asc' as const }));
    let count = 0;
    for (;;) {
      const rows = await delegate(source, model).findMany({ orderBy, skip: count, take: PAGE });
      if (rows.length === 0) break;
      await delegate(target, model).createMany({ data: rows });
      count += rows.length;
    }
    copied.set(model, count);
  }
  // Rows kept their autoincrement ids; PostgreSQL's sequences must continue after them.
  await target.$executeRawUnsafe(`
    DO $$ DECLARE c record; BEGIN
      FOR c IN SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval%' LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), COALESCE((SELECT MAX(%I) FROM %I), 0) + 1, false)', '"' || c.table_name || '"', c.column_name, c.column_name, c.table_name);
      END LOOP;
    END $$`);
  for (const model of models) {
    const [from, to] = await Promise.all([delegate(source, model).count(), delegate(target, model).count()]);
    if (from !== to || to !== copied.get(model)) throw new Error(`${model}: ${from} rows in SQLite but ${to} in PostgreSQL after the copy`);
  }
  return copied;
}
