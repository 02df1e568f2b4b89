import { Writable } from 'node:stream';
import { DiscordAPIError } from '@discordjs/rest';
import { describe, expect, test } from 'vitest';
import { createLogger, type Logger } from '../../src/log';

async function capture(format: 'json' | 'pretty', write: (log: Logger) => void = (log) => log.info({ robloxApiKey: 'k-secret', detail: { token: 't-secret' }, guildId: '42' }, 'sync run ended')) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  write(createLogger('info', sink, format));
  await new Promise((resolve) => setImmediate(resolve));
  return lines.join('');
}

const TOKEN = 'aW50ZXJhY3Rpb246MTQ0MjkxNTQ3NjA4NjMyNjI4MzpzZWNyZXQ';

/** What discord.js throws when an answer to an interaction fails: the token is in its URL. */
function unknownInteraction(url: string) {
  return new DiscordAPIError({ code: 10062, message: 'Unknown interaction' }, 10062, 404, 'POST', url, { body: { type: 5 } });
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

  test.each(['json', 'pretty'] as const)('%s: interaction and webhook tokens in the URLs of errors are censored, however deep', async (format) => {
    const callback = `https://discord.com/api/v10/interactions/1442915476086326283/${TOKEN}/callback?with_response=false`;
    const edit = `https://discord.com/api/v10/webhooks/1442915476086326000/${TOKEN}/messages/%40original`;
    const text = await capture(format, (log) => {
      log.warn({ err: unknownInteraction(callback) }, 'could not answer an interaction');
      log.error({ err: new Error('wrapped', { cause: unknownInteraction(edit) }), detail: { url: edit } }, 'interaction failed');
    });
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('/interactions/1442915476086326283/[secret]/callback');
    expect(text).toContain('/webhooks/1442915476086326000/[secret]/messages');
  });
});
