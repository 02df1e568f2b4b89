import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { Prisma, PrismaClient } from '../generated/prisma/client';
import { PrismaClient as PostgresClient } from '../generated/postgres/client';
import { migratingAlone, migrationsApplied, postgresAdapter } from './postgres';
import { engineOf, redacted, sqliteFileUrl } from './url';

/**
 * The database, SQLite or PostgreSQL by DATABASE_URL's scheme. Both clients are generated from
 * identical models (test/unit/schemas.test.ts holds them to it), so the PostgreSQL client is typed
 * as the SQLite one; the raw SQL that differs between them asks `isPostgres`.
 */
export type Database = PrismaClient;

type RawClient = Pick<Database, '$queryRaw'> | Pick<Database, '$executeRaw'>;

export function openDatabase(databaseUrl: string): Database {
  if (engineOf(databaseUrl) === 'postgres') return new PostgresClient({ adapter: postgresAdapter(databaseUrl) }) as unknown as Database;
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: sqliteFileUrl(databaseUrl) }) });
}

/** Whether a client (or a transaction's) speaks PostgreSQL; Prisma keeps the provider on both. */
export function isPostgres(db: RawClient): boolean {
  return (db as { _activeProvider?: string })._activeProvider === 'postgresql';
}

/**
 * `"column" IN (ids)` for raw queries, the list bound as one parameter. Prisma binds an `in` list
 * as a parameter per id, which for the sync's hundred-member batches costs more than the query.
 * `column` is written into the SQL as is: only ever a constant name.
 */
export function among(db: RawClient, column: string, ids: readonly string[]): Prisma.Sql {
  const name = Prisma.raw(`"${column}"`);
  if (isPostgres(db)) return Prisma.sql`${name} = ANY(${[...ids]}::text[])`;
  return Prisma.sql`${name} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

/**
 * A list as a table of one column, `value`, to insert from: strings stay strings, and an element
 * that is itself a list is read with `value->>0`, `value->>1`… (text in PostgreSQL: cast numbers).
 */
export function rowsOf(db: RawClient, list: readonly (string | readonly unknown[])[]): Prisma.Sql {
  const json = JSON.stringify(list);
  if (!isPostgres(db)) return Prisma.sql`json_each(${json})`;
  if (list.every((element) => typeof element === 'string')) return Prisma.sql`jsonb_array_elements_text(${json}::jsonb) AS value`;
  return Prisma.sql`jsonb_array_elements(${json}::jsonb) AS value`;
}

/** A DateTime parameter where PostgreSQL cannot infer its type (a SELECT list). */
export function timestamp(db: RawClient, at: Date): Prisma.Sql {
  return isPostgres(db) ? Prisma.sql`${at}::timestamp(3)` : Prisma.sql`${at}`;
}

const prismaCode = (error: unknown) => (typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined);

export function isUniqueViolation(error: unknown): boolean {
  return prismaCode(error) === 'P2002';
}

/** The row to update or delete was not there. */
export function isNotFound(error: unknown): boolean {
  return prismaCode(error) === 'P2025';
}

/**
 * Applies pending migrations with Prisma's own CLI; prisma.config.ts picks the schema and migration
 * history by the URL. SQLite's file and folder are created if needed; PostgreSQL's database is not.
 */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  // The project root, found from the CLI's place in node_modules: right from src/ and from dist/.
  const root = resolve(dirname(cli), '../../..');
  const postgres = engineOf(databaseUrl) === 'postgres';
  const deploy = () =>
    promisify(execFile)(process.execPath, [cli, 'migrate', 'deploy'], {
      // The CLI reads prisma.config.ts from the project root; a SQLite URL is made absolute first so
      // a relative path still means "relative to where the bot was started".
      cwd: root,
      env: { ...process.env, DATABASE_URL: postgres ? databaseUrl : sqliteFileUrl(databaseUrl) },
      timeout: 120_000,
    });
  const upToDate = () => migrationsApplied(databaseUrl, resolve(root, 'prisma/postgres/migrations'));
  if (postgres && (await upToDate())) return;
  try {
    // Several processes may start at once on one PostgreSQL database (SQLite has one process): they
    // take turns, and those that waited find the work done.
    await (postgres ? migratingAlone(databaseUrl, async () => (await upToDate()) || deploy()) : deploy());
  } catch (error) {
    const output = (error as { stderr?: string; stdout?: string }).stderr || (error as { stdout?: string }).stdout || String(error);
    const missing = postgres && /Database `[^`]*` does not exist/.test(output);
    if (missing) throw new Error(`the PostgreSQL database in DATABASE_URL does not exist: create it first (createdb or CREATE DATABASE), then start again`);
    throw new Error(`database migration failed: ${redacted(output.trim().split('\n').slice(-3).join(' '))}`);
  }
}
