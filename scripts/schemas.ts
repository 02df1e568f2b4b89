// The PostgreSQL schema is the SQLite one with its own provider and client folder: the models are
// written once, in prisma/schema.prisma. test/unit/schemas.test.ts fails when the two drift.

export const SQLITE_SCHEMA = 'prisma/schema.prisma';
export const POSTGRES_SCHEMA = 'prisma/postgres/schema.prisma';

export function postgresSchema(sqlite: string): string {
  const output = 'output       = "../src/generated/prisma"';
  const provider = 'provider = "sqlite"';
  if (!sqlite.includes(output) || !sqlite.includes(provider)) throw new Error(`${SQLITE_SCHEMA} no longer has the generator output and provider this script replaces`);
  return sqlite.replace(output, 'output       = "../../src/generated/postgres"').replace(provider, 'provider = "postgresql"');
}
