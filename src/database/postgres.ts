// PostgreSQL through @prisma/adapter-pg, for the bot and for Prisma's CLI (prisma.config.ts).

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
