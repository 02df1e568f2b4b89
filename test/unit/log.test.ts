import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { createLogger } from '../../src/log';

async function capture(format: 'json' | 'pretty') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger('info', sink, format);
  log.info({ robloxApiKey: 'k-secret', detail: { token: 't-secret' }, guildId: '42' }, 'sync run ended');
  await new Promise((resolve) => setImmediate(resolve));
  return lines.join('');
}

describe('logs', () => {
  test('JSON lines for production, secrets censored', async () => {
    const line = JSON.parse(await capture('json')) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'sync run ended', guildId: '42', robloxApiKey: '[secret]', detail: { token: '[secret]' }, app: 'gatepass' });
  });

  test('readable lines for development, secrets censored just the same', async () => {
    const text = await capture('pretty');
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toContain('sync run ended');
    expect(text).toContain('guildId');
    expect(text).not.toContain('k-secret');
    expect(text).not.toContain('t-secret');
  });
});
