import { expect, test } from 'vitest';
import type { Clock } from '../../src/clock';
import { RateBudget } from '../../src/roblox/budget';

/** A clock that only moves when someone sleeps. */
function manualClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

test('allows `limit` starts per rolling window, then waits for the oldest to age out', async () => {
  const clock = manualClock();
  const budget = new RateBudget(3, 60_000, clock);
  const starts: number[] = [];
  for (let i = 0; i < 7; i++) {
    const landed = await budget.take();
    starts.push(clock.now());
    landed();
  }
  expect(starts).toEqual([0, 0, 0, 60_000, 60_000, 60_000, 120_000]);
  // In any 60 s window there are never more than 3 starts.
  for (const t of starts) expect(starts.filter((s) => s >= t && s < t + 60_000).length).toBeLessThanOrEqual(3);
});

test('a pause from Roblox holds every request until it ends', async () => {
  const clock = manualClock();
  const budget = new RateBudget(100, 60_000, clock);
  (await budget.take())();
  budget.pauseFor(5_000);
  (await budget.take())();
  expect(clock.now()).toBe(5_000);
  budget.pauseFor(1_000);
  budget.pauseFor(500); // a shorter pause never shortens a longer one
  (await budget.take())();
  expect(clock.now()).toBe(6_000);
});

test('a slot counts from when its response landed, and in-flight slots hold their place', async () => {
  const clock = manualClock();
  const budget = new RateBudget(1, 1_000, clock);
  const landed = await budget.take();
  await clock.sleep(300); // the request takes 300 ms
  landed();
  await budget.take();
  expect(clock.now()).toBe(1_300);
});

test('at most maxInFlight requests are in flight at once', async () => {
  const clock = manualClock();
  const budget = new RateBudget(100, 60_000, clock, 2);
  const first = await budget.take();
  await budget.take();
  let third = false;
  const waiting = budget.take().then(() => (third = true));
  await Promise.resolve();
  expect(third).toBe(false);
  first();
  await waiting;
  expect(third).toBe(true);
});
