import 'dotenv/config';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { DEFAULT_DATABASE_URL, sqliteFileUrl } from './src/database/url';

// The schema reads DATABASE_URL; without it `prisma generate` (run by npm install, before any .env
// exists) falls back to downloading an engine, which fails offline. Use the bot's own default.
process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;

// The JS schema engine works offline (the classic one downloads a binary); it reaches SQLite
// through the same adapter the bot uses at run time.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  engine: 'js',
  experimental: { adapter: true },
  async adapter() {
    return new PrismaBetterSQLite3({ url: sqliteFileUrl(process.env.DATABASE_URL) });
  },
});
