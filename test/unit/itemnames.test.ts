import { describe, expect, test } from 'vitest';
import { describeBind, discordSafe } from '../../src/bindings';
import { cleanName, MAX_NAME_LENGTH } from '../../src/roblox/items';
import { FakeRoblox } from '../fakes/roblox';
import { robloxSpec } from '../fakes/spec';

describe('cleanName: one plain line, capped', () => {
  test('line breaks, tabs and control characters become single spaces; bidi overrides go', () => {
    expect(cleanName('  VIP\r\n\tPass\u0000\u2028now\u202e!  ')).toBe('VIP Pass now!');
  });

  test('cut at MAX_NAME_LENGTH characters, not UTF-16 units, with an ellipsis', () => {
    const cut = cleanName('😀'.repeat(500));
    expect([...cut]).toHaveLength(MAX_NAME_LENGTH);
    expect(cut.endsWith('😀…')).toBe(true);
    expect(cleanName('x'.repeat(MAX_NAME_LENGTH))).toBe('x'.repeat(MAX_NAME_LENGTH));
  });

  test('nothing left is empty', () => {
    expect(cleanName(' \n\u202e ')).toBe('');
  });
});

describe('discordSafe and describeBind', () => {
  test.each([
    ['@here and @EVERYONE', '@\u200bhere and @\u200bEVERYONE'],
    ['<t:1:R> <:emoji:1> </cmd:1> <#1> <@1>', '\\<t:1:R> \\<:emoji:1> \\</cmd:1> \\<#1> \\<@1>'],
    ['[free](https://e.vil)', '\\[free](https://e.vil)'],
    ['a_b *c* ~~d~~ `e`', 'a\\_b \\*c\\* \\~\\~d\\~\\~ \\`e\\`'],
    ['back\\slash', 'back\\\\slash'],
  ])('%s', (raw, safe) => {
    expect(discordSafe(raw)).toBe(safe);
  });

  test('the name when known, "name unknown" only for kinds Roblox names, the id alone when not read', () => {
    expect(describeBind({ roleId: '1', kind: 'gamepass', itemId: '83167572', name: 'VIP Pass' })).toBe('game pass VIP Pass (83167572)');
    expect(describeBind({ roleId: '1', kind: 'badge', itemId: '5', name: null })).toBe('badge 5 (name unknown)');
    expect(describeBind({ roleId: '1', kind: 'privateserver', itemId: '7', name: null })).toBe('private server 7');
    expect(describeBind({ roleId: '1', kind: 'asset', itemId: '9' })).toBe('asset 9');
    expect(describeBind({ roleId: '1', kind: 'verified', itemId: '' })).toBe('linked Roblox account');
  });
});

test("the fake's badge endpoint is the spec's: its host, and its 404 for an unknown badge", async () => {
  const operation = robloxSpec.operation('/v1/badges/{badgeId}', 'get')!;
  expect(operation.servers?.map((s) => s.url)).toEqual(['https://badges.roblox.com']);
  const fake = new FakeRoblox();
  await fake.start();
  try {
    fake.addItem('badge', '1', 'One');
    expect((await fetch(`${fake.badgesUrl}/v1/badges/1`)).status).toBe(200);
    const missing = await fetch(`${fake.badgesUrl}/v1/badges/2`);
    expect(missing.status).toBe(404);
    const { errors } = (await missing.json()) as { errors: { code: number; message: string }[] };
    expect(operation.responses['404']?.description).toContain(`${errors[0]!.code}: ${errors[0]!.message}`);
    expect(fake.specErrors).toEqual([]);
  } finally {
    await fake.close();
  }
});
