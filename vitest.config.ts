import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // End-to-end files start real servers and a real client; they wait on schedules. Every start
    // runs Prisma's migrate deploy, which takes several seconds longer on PostgreSQL.
    testTimeout: process.env.TEST_DATABASE === 'postgres' ? 60_000 : 30_000,
    hookTimeout: 60_000,
    // Two cores: one file per core keeps timings honest.
    maxWorkers: 2,
  },
});
