// The membership index's settled(): what a cycle and the unverified-role pass wait on.

import { expect, test } from 'vitest';
import { systemClock } from '../../src/clock';
import type { Database } from '../../src/database/client';
import type { DiscordSide } from '../../src/discord/servers';
import { createLogger } from '../../src/log';
import { createMemberIndex } from '../../src/memberindex';

test('a process holding no server (a shard given none) reconciles nothing and is settled at once', async () => {
  // Neither is touched when there is nothing to reconcile.
  const index = createMemberIndex({ db: {} as Database, discord: {} as DiscordSide, log: createLogger('silent'), clock: systemClock, pageIntervalMs: 0 });
  index.reconcile([]);
  let settled = false;
  void index.settled().then(() => (settled = true));
  // Counted in microtask turns, not time: the bug this guards against spun settled() on microtasks
  // alone, which starves every timer and the process's I/O (so a regression hangs this file rather
  // than failing it: CI's own limit ends it).
  for (let turn = 0; turn < 10 && !settled; turn++) await Promise.resolve();
  expect(settled).toBe(true);
});
