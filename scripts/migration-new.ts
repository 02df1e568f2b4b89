// npm run migration:new -- <name> [--since <git revision>]
//
// After editing the models in prisma/schema.prisma: rewrites prisma/postgres/schema.prisma from it
// and writes a migration named <name> to both histories, each the difference between the schema at
// <git revision> (HEAD unless given) and now. A SQLite migration already named <name> (one merged
// from a branch written before PostgreSQL) is kept and only its PostgreSQL twin is written; give
// --since the revision before that branch's schema change.
// Needs a PostgreSQL server for Prisma's diff: POSTGRES_URL (an existing database on it).

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES_SCHEMA, postgresSchema, SQLITE_SCHEMA } from './schemas';

const [name, flag, since = 'HEAD'] = process.argv.slice(2);
if (!name || !/^[a-z0-9_]+$/.test(name) || (flag !== undefined && flag !== '--since')) {
  console.error('usage: npm run migration:new -- <name in lower_snake_case> [--since <git revision>]');
  process.exit(2);
}
const postgresUrl = process.env.POSTGRES_URL;
if (!postgresUrl) {
  console.error('POSTGRES_URL must name a database on a running PostgreSQL server (Prisma diffs PostgreSQL schemas through one)');
  process.exit(2);
}

const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
const scratch = mkdtempSync(join(tmpdir(), 'gatepass-migration-'));
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);

function diff(from: string, to: string, databaseUrl: string): string {
  return execFileSync(process.execPath, [cli, 'migrate', 'diff', '--from-schema-datamodel', from, '--to-schema-datamodel', to, '--script'], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: 'utf8',
  });
}

function write(folder: string, sql: string): void {
  const path = join(folder, `${stamp}_${name}`);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'migration.sql'), sql);
  console.log(`wrote ${path}/migration.sql`);
}

try {
  const before = execFileSync('git', ['show', `${since}:${SQLITE_SCHEMA}`], { encoding: 'utf8' });
  const now = readFileSync(SQLITE_SCHEMA, 'utf8');
  writeFileSync(POSTGRES_SCHEMA, postgresSchema(now));
  writeFileSync(join(scratch, 'sqlite.prisma'), before);
  writeFileSync(join(scratch, 'postgres.prisma'), postgresSchema(before));
  if (!readdirSync('prisma/migrations').some((folder) => folder.endsWith(`_${name}`))) {
    write('prisma/migrations', diff(join(scratch, 'sqlite.prisma'), SQLITE_SCHEMA, `file:${join(scratch, 'diff.db')}`));
  }
  write('prisma/postgres/migrations', diff(join(scratch, 'postgres.prisma'), POSTGRES_SCHEMA, postgresUrl));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
