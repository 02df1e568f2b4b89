import { expect, test } from 'vitest';
import { KeyGuard } from '../../src/roblox/keyguard';

test('a rejected key blocks calls with a doubling wait, reports once each way, and recovers', () => {
  let now = 0;
  const events: string[] = [];
  const guard = new KeyGuard({ now: () => now, sleep: async () => undefined }, (state) => events.push(state), 1_000, 8_000);
  expect(guard.blocked()).toBe(false);
  guard.rejected('401');
  expect(events).toEqual(['rejected']);
  expect(guard.blocked()).toBe(true);
  now = 1_300; // past the first wait (1 s ± 25 %): one probe may go
  expect(guard.blocked()).toBe(false);
  guard.rejected('401'); // the probe failed: wait about 2 s
  expect(events).toEqual(['rejected']);
  now = 2_700;
  expect(guard.blocked()).toBe(true);
  now = 3_900;
  expect(guard.blocked()).toBe(false);
  guard.accepted();
  guard.accepted();
  expect(events).toEqual(['rejected', 'recovered']);
  expect(guard.blocked()).toBe(false);
});
