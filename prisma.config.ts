import 'dotenv/config';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { migrationAdapter } from './src/database/postgres';
import { DEFAULT_DATABASE_URL, engineOf, sqliteFileUrl } from './src/database/url';

// The schema reads DATABASE_URL; without it `prisma generate` (run by npm install, before any .env
// exists) falls back to downloading an engine, which fails offline. Use the bot's own default.
process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;
const url = process.env.DATABASE_URL;

// The JS schema engine works offline (the classic one downloads a binary); it reaches the database
// through the same adapter the bot uses at run time. DATABASE_URL's scheme picks the schema and its
// own migration history: prisma/ for SQLite, prisma/postgres/ for PostgreSQL, with identical models.
const folder = engineOf(url) === 'postgres' ? 'prisma/postgres' : 'prisma';

export default defineConfig({
  schema: `${folder}/schema.prisma`,
  migrations: { path: `${folder}/migrations` },
  engine: 'js',
  experimental: { adapter: true },
  async adapter() {
    return engineOf(url) === 'postgres' ? migrationAdapter(url) : new PrismaBetterSQLite3({ url: sqliteFileUrl(url) });
  },
});
