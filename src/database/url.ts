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
