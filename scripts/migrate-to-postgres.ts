// npm run migrate-to-postgres -- <SQLite URL> <PostgreSQL URL>
// e.g. npm run migrate-to-postgres -- file:./data/gatepass.db postgresql://gatepass:secret@127.0.0.1:5432/gatepass
//
// Stop the bot first. Brings both databases to the latest migration, copies every row into the
// PostgreSQL one (which must be empty), and checks the counts. Then set DATABASE_URL to it.

import { copyDatabase } from '../src/database/copy';
import { migrateDatabase, openDatabase } from '../src/database/client';
import { databaseUrlProblem, engineOf, redacted } from '../src/database/url';

const [from, to] = process.argv.slice(2);
const problem =
  !from || !to
    ? 'usage: npm run migrate-to-postgres -- <SQLite URL, file:…> <PostgreSQL URL, postgresql://…>'
    : engineOf(from) !== 'sqlite' || databaseUrlProblem(from)
      ? 'the first URL must name the SQLite file (file:./data/gatepass.db)'
      : engineOf(to) !== 'postgres' || databaseUrlProblem(to)
        ? `the second URL must name a PostgreSQL database: ${databaseUrlProblem(to) ?? 'postgresql://user:password@host:5432/gatepass'}`
        : undefined;
if (problem || !from || !to) {
  console.error(problem);
  process.exit(2);
}

try {
  await migrateDatabase(from);
  await migrateDatabase(to);
  const source = openDatabase(from);
  const target = openDatabase(to);
  try {
    const copied = await copyDatabase(source, target);
    for (const [model, count] of copied) console.log(`${model}: ${count}`);
    console.log(`copied and checked; now set DATABASE_URL=${redacted(to)} (with its password) and start the bot`);
  } finally {
    await Promise.all([source.$disconnect(), target.$disconnect()]);
  }
} catch (error) {
  const reason = redacted(error instanceof Error ? error.message : String(error));
  console.error(`migration to PostgreSQL failed (SQLite is unchanged; drop and recreate a half-filled PostgreSQL database before trying again): ${reason}`);
  process.exit(1);
}
