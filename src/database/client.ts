import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { Prisma, PrismaClient } from '../generated/prisma/client';
import { sqliteFileUrl } from './url';

export type Database = PrismaClient;

export function openDatabase(databaseUrl: string): Database {
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: sqliteFileUrl(databaseUrl) }) });
}

/**
 * `"column" IN (ids)` for raw queries, the list bound as one JSON parameter. Prisma binds an `in`
 * list as a parameter per id, which for the sync's hundred-member batches costs more than the query.
 * `column` is written into the SQL as is: only ever a constant name.
 */
export function among(column: string, ids: readonly string[]): Prisma.Sql {
  return Prisma.sql`${Prisma.raw(`"${column}"`)} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
}

const prismaCode = (error: unknown) => (typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined);

export function isUniqueViolation(error: unknown): boolean {
  return prismaCode(error) === 'P2002';
}

/** The row to update or delete was not there. */
export function isNotFound(error: unknown): boolean {
  return prismaCode(error) === 'P2025';
}

/** Applies pending migrations with Prisma's own CLI (creating the file and its folder if needed). */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  // The project root, found from the CLI's place in node_modules: right from src/ and from dist/.
  const root = resolve(dirname(cli), '../../..');
  try {
    await promisify(execFile)(process.execPath, [cli, 'migrate', 'deploy'], {
      // The CLI reads prisma.config.ts from the project root; the URL is made absolute first so a
      // relative path still means "relative to where the bot was started".
      cwd: root,
      env: { ...process.env, DATABASE_URL: sqliteFileUrl(databaseUrl) },
      timeout: 120_000,
    });
  } catch (error) {
    const output = (error as { stderr?: string; stdout?: string }).stderr || (error as { stdout?: string }).stdout || String(error);
    throw new Error(`database migration failed: ${output.trim().split('\n').slice(-3).join(' ')}`);
  }
}
