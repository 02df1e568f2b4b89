// The two schemas must describe the same models: the bot types the PostgreSQL client as the SQLite
// one. `npm run migration:new` rewrites the PostgreSQL schema; a hand edit to either fails here.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { POSTGRES_SCHEMA, postgresSchema, SQLITE_SCHEMA } from '../../scripts/schemas';

describe('the PostgreSQL schema', () => {
  test('has the SQLite schema’s models, word for word', () => {
    expect(readFileSync(POSTGRES_SCHEMA, 'utf8')).toBe(postgresSchema(readFileSync(SQLITE_SCHEMA, 'utf8')));
  });

  test('differs only in its provider and client folder', () => {
    const changed = postgresSchema('output       = "../src/generated/prisma"\nprovider = "sqlite"\nmodel A { id String @id }');
    expect(changed).toBe('output       = "../../src/generated/postgres"\nprovider = "postgresql"\nmodel A { id String @id }');
  });

  test('has a migration history of its own', () => {
    expect(readFileSync('prisma/postgres/migrations/migration_lock.toml', 'utf8')).toContain('provider = "postgresql"');
    expect(readdirSync('prisma/postgres/migrations').filter((name) => /^\d{14}_/.test(name)).length).toBeGreaterThan(0);
  });
});
