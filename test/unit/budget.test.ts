import { expect, test } from 'vitest';
import { type Clock, systemClock } from '../../src/clock';
import { RateBudget, type Wait } from '../../src/roblox/budget';

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

test('priority requests go first come first served, and each hears its place as the line moves', async () => {
  const budget = new RateBudget(100, 60_000, systemClock);
  const out = await budget.take(true); // one in flight: until Roblox reports its window, the rest wait
  const heard: Wait[][] = [[], [], []];
  const order: number[] = [];
  const waiters = heard.map((log, i) => budget.take(true, (wait) => log.push(wait)).then((landed) => (order.push(i), landed)));
  await until(() => heard.every((log) => log.length > 0));
  expect(heard.map((log) => log[0]!.position)).toEqual([1, 2, 3]);
  expect(heard[2]![0]!.etaMs).toBeGreaterThan(heard[1]![0]!.etaMs);

  out(); // the answer lands: the head of the line goes, and the others move up
  const first = await waiters[0]!;
  expect(order).toEqual([0]);
  expect([heard[1]!.at(-1)!.position, heard[2]!.at(-1)!.position]).toEqual([1, 2]);
  first();
  (await waiters[1]!)();
  (await waiters[2]!)();
  expect(order).toEqual([0, 1, 2]);
});

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}
