// A tiny run of `npm run bench`, so the benchmark keeps working between the times someone runs it at
// full size. It asserts what the scheduler promises (one request per member, nothing written when
// nothing changed, no 429), never how long anything took.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { TEST_POSTGRES_URL } from '../database';
import { redisAvailable } from '../redis';

test('npm run bench at a tiny size: one request per member (1 + pages where collectibles are bound), no 429, no writes on an unchanged cycle', async () => {
  const args = ['--import', 'tsx', 'bench/run.ts', '--members', '60', '--large', '300', '--latency', '5', '--rate', '100', '--window', '600', '--naive-sample', '5'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 120_000 });
  const row = (measure: string) => {
    const line = stdout.split('\n').find((l) => l.startsWith(`| ${measure} |`));
    if (!line) throw new Error(`no "${measure}" row in:\n${stdout}`);
    return line.split('|').slice(2, -1).map((cell) => cell.trim());
  };
  expect(row('inventory requests per member per cycle')).toEqual(['1.00', '1.00', expect.stringMatching(/^\d+\.\d\d$/)]);
  expect(Number(row('inventory requests per member per cycle')[2])).toBeGreaterThan(1);
  expect(row('429s provoked')[1]).toBe('0');
  expect(Number(row('Discord writes, first cycle')[1])).toBeGreaterThan(0);
  expect(row('Discord writes, second cycle (no ownership changes)')[1]).toBe('0');
  expect(row('N = 300: planner + database time, steady cycle')[1]).toMatch(/^\d+\.\d s \(planner/);
  // With a collectible bind in one server of three: its members cost 1 + pages, everyone else exactly 1.
  const starting = (prefix: string) => {
    const line = stdout.split('\n').find((l) => l.startsWith(`| ${prefix}`));
    if (!line) throw new Error(`no "${prefix}" row in:\n${stdout}`);
    return line.split('|').slice(2, -1).map((cell) => cell.trim());
  };
  const collectors = starting('inventory requests per member per cycle, members of the collectible server');
  const [total, pages] = collectors[1]!.match(/^(\d+\.\d\d) \(1 \+ (\d+\.\d\d) collectible pages\)$/)!.slice(1).map(Number) as [number, number];
  expect(pages).toBeGreaterThanOrEqual(1);
  expect(total).toBeCloseTo(1 + pages, 2);
  expect(starting('inventory requests per member per cycle, other members')[1]).toBe('1.00');
  expect(starting('planner time per cycle, steady')[1]).toMatch(/^\d+\.\d\d s \(\d+ µs per member/);
}, 150_000);

test('npm run bench:verify at a tiny size: everyone gets a code and is linked, lookups batched, nothing refused', async () => {
  const args = ['--import', 'tsx', 'bench/verify.ts', '--members', '40', '--over', '4', '--latency', '5'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 120_000 });
  const row = (measure: string) => {
    const line = stdout.split('\n').find((l) => l.startsWith(`| ${measure}`));
    if (!line) throw new Error(`no "${measure}" row in:\n${stdout}`);
    return line.split('|').slice(2, -1).map((cell) => cell.trim());
  };
  expect(row('time to the code, p50 / p99 / max')[1]).toMatch(/^\d+\.\d\d s \/ \d+\.\d\d s \/ \d+\.\d\d s$/);
  expect(row('time until every member is linked')[1]).toMatch(/^\d+\.\d s$/);
  expect(row('/verify answered with an error')[1]).toBe('0');
  expect(row('spec violations seen by the fakes')[1]).toBe('0');
  // 40 members in 4 seconds, a request at most every 5 seconds: a handful of requests, not 40.
  const [, requests, largest] = /\((\d+) requests, largest (\d+) names\)/.exec(row('username requests per /verify')[1]!)!;
  expect(Number(requests)).toBeLessThanOrEqual(3);
  expect(Number(largest)).toBeGreaterThan(10);
}, 150_000);

// The multi-process mode: one process in queue mode on SQLite; with TEST_POSTGRES_URL also two under
// the shard manager on PostgreSQL. Each member read exactly once per cycle, none twice, no 429.
test.skipIf(!redisAvailable)('npm run bench -- --processes at a tiny size: every member checked and read exactly once, no 429', async () => {
  const counts = TEST_POSTGRES_URL ? '1,2' : '1';
  const database = TEST_POSTGRES_URL ? ['--database', 'postgres', '--postgres-url', TEST_POSTGRES_URL] : ['--database', 'sqlite'];
  const args = ['--import', 'tsx', 'bench/run.ts', '--processes', counts, ...database, '--members', '60', '--servers', '8', '--latency', '0', '--rate', '100', '--window', '600', '--cycles', '1'];
  const { stdout } = await promisify(execFile)(process.execPath, args, { timeout: 200_000 });
  for (const processes of counts.split(',')) {
    const line = stdout.split('\n').find((l) => l.startsWith(`| ${processes} | first |`));
    if (!line) throw new Error(`no row for ${processes} process(es) in:\n${stdout}`);
    const cells = line.split('|').slice(3, -1).map((cell) => cell.trim());
    expect(cells[0]).toMatch(/^\d+\.\d s \(\d+ min\), \d+ % of ideal speed$/);
    expect(cells[4]).toBe('60; 1.000 / 0 / 0 / 0');
  }
}, 240_000);
