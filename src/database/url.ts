import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const DEFAULT_DATABASE_URL = 'file:./data/gatepass.db';

export type Engine = 'sqlite' | 'postgres';

/** Which database a DATABASE_URL names, by its scheme; undefined for any other scheme. */
export function engineOf(url: string): Engine | undefined {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  return undefined;
}

/**
 * What is wrong with a DATABASE_URL, said without repeating it (it may hold a password), or
 * undefined when it names a SQLite file or a PostgreSQL database.
 */
export function databaseUrlProblem(url: string): string | undefined {
  const engine = engineOf(url);
  if (engine === undefined) return 'must be a SQLite file URL (file:./data/gatepass.db) or a PostgreSQL URL (postgresql://user:password@host:5432/gatepass)';
  if (engine === 'sqlite') return url.slice('file:'.length).split('?')[0] ? undefined : 'names no SQLite file after "file:"';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid PostgreSQL URL (postgresql://user:password@host:5432/gatepass)';
  }
  if (parsed.hostname === '') return 'names no PostgreSQL host (postgresql://user:password@host:5432/gatepass)';
  if (parsed.pathname.length <= 1) return 'names no PostgreSQL database: add it after the host, as in postgresql://user:password@host:5432/gatepass';
  return undefined;
}

/** The database file's path for a `file:` URL, relative paths taken from the working directory. */
export function sqliteFilePath(url: string): string {
  if (!url.startsWith('file:')) throw new Error(`DATABASE_URL must start with "file:" (SQLite), got "${url.split(':')[0]}:…"`);
  const path = url.slice('file:'.length).split('?')[0] ?? '';
  if (path === '') throw new Error('DATABASE_URL names no file');
  return resolve(path);
}

/** The adapter URL for the database, with its folder created so a first start needs no setup. */
export function sqliteFileUrl(url: string | undefined): string {
  const path = sqliteFilePath(url ?? DEFAULT_DATABASE_URL);
  mkdirSync(dirname(path), { recursive: true });
  return `file:${path}`;
}

/** Text with the password of any database URL in it hidden, for messages. */
export function redacted(text: string): string {
  return text.replace(/([a-z]+:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}
