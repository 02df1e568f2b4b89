// PostgreSQL through @prisma/adapter-pg, for the bot and for Prisma's CLI (prisma.config.ts).

import { readdirSync } from 'node:fs';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

// prisma/orm#27403: `migrate deploy` reads catalog columns of type `name` (OID 19), which
// adapter-pg 6.19 cannot map; they are text to it. Only the CLI needs it: no table of ours has such a column.
const NAME = 19;
const TEXT = 25;

function namesAsText<T>(result: T): T {
  for (const field of (result as { fields?: { dataTypeID: number }[] } | undefined)?.fields ?? []) {
    if (field.dataTypeID === NAME) field.dataTypeID = TEXT;
  }
  return result;
}

type Query = (...args: unknown[]) => unknown;

/** A pool whose clients report `name` columns as text; pool.query calls client.query with a callback, so both forms are wrapped. */
function catalogReadyPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString });
  pool.on('connect', (client) => {
    const query = (client.query as Query).bind(client);
    (client as unknown as { query: Query }).query = (...args: unknown[]) => {
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (error: unknown, result: unknown) => (callback as Query)(error, namesAsText(result));
        return query(...args);
      }
      const answer = query(...args);
      return answer instanceof Promise ? answer.then(namesAsText) : answer;
    };
  });
  return pool;
}

export function postgresAdapter(connectionString: string): PrismaPg {
  return new PrismaPg({ connectionString });
}

/** The adapter for Prisma's schema engine (migrate deploy, migrate diff). */
export function migrationAdapter(connectionString: string): PrismaPg {
  return new PrismaPg(catalogReadyPool(connectionString), { disposeExternalPool: true });
}

/** Our own advisory lock's key (Prisma's migrate takes 72707369). */
export const MIGRATION_LOCK = 4_720_151_616;

/**
 * Runs `work` (the migration) holding an advisory lock of our own, waited for as long as it takes.
 * Prisma's `migrate deploy` takes its own lock but gives up after 10 s, and shard processes started
 * together (systemd starts them all at once) would all migrate a new database at the same moment:
 * with this they take turns, and the later ones find nothing left to apply. The lock is the
 * session's: a process that dies holding it drops its connection, and PostgreSQL releases it. When
 * no connection can be had, `work` runs anyway and Prisma's CLI says what is wrong.
 */
export async function migratingAlone<T>(connectionString: string, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  // A connection lost while waiting fails the query below; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    return work();
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await work();
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether every migration in `folder` is applied to the database and none has failed. Prisma's
 * `migrate deploy` on PostgreSQL keeps its process alive about ten seconds after it is done (a timer
 * of its schema engine), which every start of every process would wait for; a database already up
 * to date needs no CLI. Any doubt (no history yet, a failed migration) is left to the CLI, which
 * applies what is missing or says what is wrong.
 */
export async function migrationsApplied(connectionString: string, folder: string): Promise<boolean> {
  const wanted = readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const client = new pg.Client({ connectionString });
  try {
    await client.connect();
    const { rows } = await client.query<{ name: string; finished: boolean; rolledBack: boolean }>(
      'SELECT migration_name AS name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS "rolledBack" FROM _prisma_migrations',
    );
    if (rows.some((row) => !row.finished && !row.rolledBack)) return false;
    const applied = new Set(rows.filter((row) => row.finished && !row.rolledBack).map((row) => row.name));
    return wanted.every((name) => applied.has(name));
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
