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
  budget.observe(99, 60); // Roblox has answered once: concurrency may open up
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

test('priority requests go first, but the background still gets one slot in four', async () => {
  // A real clock with a tiny window: 1 request per 30 ms, so the order of grants is observable.
  const budget = new RateBudget(1, 30, undefined, 4);
  budget.observe(undefined, undefined);
  const order: string[] = [];
  const ask = (name: string, priority: boolean) => budget.take(priority).then((landed) => (order.push(name), landed()));
  (await budget.take())(); // the window is now full: everyone below has to queue
  await Promise.all([ask('b1', false), ask('b2', false), ...Array.from({ length: 6 }, (_, i) => ask(`p${i + 1}`, true))]);
  // Three priority grants, then the waiting background request, and again.
  expect(order.map((name) => name[0]).join('')).toBe('pppbpppb');
});

test('one request at a time until Roblox reports its window; then pause when it is nearly spent', async () => {
  const clock = manualClock();
  const budget = new RateBudget(100, 60_000, clock, 4);
  const first = await budget.take();
  let second = false;
  const waiting = budget.take().then((landed) => ((second = true), landed));
  await Promise.resolve();
  expect(second).toBe(false); // a restarted bot cannot know what the previous process spent
  budget.observe(50, 30);
  first();
  (await waiting)();
  expect(second).toBe(true);
  const before = clock.now();
  budget.observe(2, 30); // fewer left than we may have in flight: wait for Roblox's reset
  (await budget.take())();
  expect(clock.now() - before).toBeGreaterThanOrEqual(30_000);
});
