import { expect, test } from 'vitest';
import { fitMessage } from '../../src/reports';
import { newCode, profileHasCode } from '../../src/verification';

test('codes are words, random, and start with the bot name', () => {
  const codes = new Set(Array.from({ length: 200 }, newCode));
  expect(codes.size).toBe(200);
  for (const code of codes) expect(code).toMatch(/^gatepass( [a-z]+){5}$/);
});

test('the profile match is lenient about case, spacing and punctuation, strict about words', () => {
  const code = 'gatepass amber river maple otter quill';
  expect(profileHasCode(`I like trains.\n${code}`, code)).toBe(true);
  expect(profileHasCode('GATEPASS  Amber river, maple-otter QUILL!', code)).toBe(true);
  expect(profileHasCode('gatepass amber river maple otter', code)).toBe(false);
  expect(profileHasCode('gatepass amber river maple otter quilling', code)).toBe(false);
  expect(profileHasCode('', code)).toBe(false);
});

test('long replies are cut to Discord’s limit, saying how much was left out', () => {
  const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(20)}`);
  const message = fitMessage(lines);
  expect(message.length).toBeLessThanOrEqual(2000);
  expect(message).toMatch(/…and \d+ more lines$/);
  expect(fitMessage(['a', 'b'])).toBe('a\nb');
});
