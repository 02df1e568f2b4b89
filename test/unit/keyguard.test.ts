import { expect, test } from 'vitest';
import { KeyGuard } from '../../src/roblox/keyguard';

test('a rejected key blocks calls with a doubling wait, reports once each way, and recovers', () => {
  let now = 0;
  const events: string[] = [];
  const guard = new KeyGuard({ now: () => now, sleep: async () => undefined }, (state) => events.push(state), 1_000, 8_000);
  expect([guard.admit(), guard.admit()]).toEqual(['go', 'go']); // two calls in flight
  guard.rejected('go', '401');
  guard.rejected('go', '401'); // the second in-flight failure is not news
  expect(events).toEqual(['rejected']);
  expect(guard.admit()).toBe('blocked');
  now = 1_300; // past the first wait (1 s ± 25 %): exactly one probe may go
  expect(guard.admit()).toBe('probe');
  expect(guard.admit()).toBe('blocked');
  guard.rejected('probe', '401'); // the probe failed: wait about 2 s
  expect(events).toEqual(['rejected']);
  now = 2_700;
  expect(guard.admit()).toBe('blocked');
  now = 3_900;
  expect(guard.admit()).toBe('probe');
  guard.accepted();
  guard.accepted();
  expect(events).toEqual(['rejected', 'recovered']);
  expect(guard.admit()).toBe('go');
});
