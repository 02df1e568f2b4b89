// Which database the storage and end-to-end tests run on: SQLite in a temporary folder (the
// default), or with TEST_DATABASE=postgres a fresh PostgreSQL database per world, created on the
// server TEST_POSTGRES_URL names (any database there, e.g. postgresql://postgres@127.0.0.1:5432/postgres)
// and dropped afterwards.

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL;

export function testingPostgres(): boolean {
  if (process.env.TEST_DATABASE === undefined || process.env.TEST_DATABASE === 'sqlite') return false;
  if (process.env.TEST_DATABASE !== 'postgres') throw new Error(`TEST_DATABASE must be sqlite or postgres, got "${process.env.TEST_DATABASE}"`);
  if (!TEST_POSTGRES_URL) throw new Error('TEST_DATABASE=postgres needs TEST_POSTGRES_URL, a PostgreSQL server URL such as postgresql://postgres@127.0.0.1:5432/postgres');
  return true;
}

async function onServer<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A new, empty PostgreSQL database on the server `serverUrl` names; its URL. */
export async function createPostgresDatabase(serverUrl: string): Promise<string> {
  const name = `gatepass_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops a database, from the server's `postgres` database (one cannot drop the database one is in). */
export async function dropPostgresDatabase(databaseUrl: string): Promise<void> {
  const server = new URL(databaseUrl);
  const name = server.pathname.slice(1);
  server.pathname = '/postgres';
  await onServer(server.toString(), (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** The database URL for a test: in `dir` for SQLite, a fresh database for PostgreSQL. */
export async function testDatabaseUrl(dir: string, file = 'gatepass.db'): Promise<string> {
  return testingPostgres() ? createPostgresDatabase(TEST_POSTGRES_URL as string) : `file:${join(dir, file)}`;
}

/** Drops a test's PostgreSQL database; SQLite's file goes with its folder. */
export async function dropTestDatabase(databaseUrl: string): Promise<void> {
  if (databaseUrl.startsWith('postgres')) await dropPostgresDatabase(databaseUrl);
}
