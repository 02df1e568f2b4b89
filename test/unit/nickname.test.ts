import { describe, expect, test } from 'vitest';
import { type NameFacts, NICKNAME_MAX, parseTemplate, planNickname, renderNickname, type TemplatePart } from '../../src/nickname';

const facts = (over: Partial<NameFacts> = {}): NameFacts => ({ robloxName: 'builder_bob', displayName: 'Bob', robloxId: '123', discordName: 'bobby', groupRank: () => undefined, ...over });
const parts = (template: string): TemplatePart[] => {
  const parsed = parseTemplate(template);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.parts;
};
const chars = (text: string) => Array.from(text).length;

describe('parseTemplate', () => {
  test('every placeholder and text around it', () => {
    expect(parts('[{roblox-id}] {smart-name} | {discord-name} {group-rank:42}')).toEqual([
      { text: '[' }, { name: 'roblox-id' }, { text: '] ' }, { name: 'smart-name' }, { text: ' | ' }, { name: 'discord-name' }, { text: ' ' }, { groupRank: '42' },
    ]);
  });
  test('an unknown placeholder is named', () => {
    expect(parseTemplate('{roblox-name} {rank}')).toEqual({ ok: false, error: expect.stringContaining('Unknown placeholder `{rank}`') });
  });
  test('a group rank without a numeric group id is refused', () => {
    expect(parseTemplate('{group-rank}')).toEqual({ ok: false, error: expect.stringContaining('needs a group id') });
    expect(parseTemplate('{group-rank:abc}')).toEqual({ ok: false, error: expect.stringContaining('needs a group id') });
  });
  test('a stray brace is refused', () => {
    expect(parseTemplate('{roblox-name')).toMatchObject({ ok: false });
    expect(parseTemplate('a}b {roblox-name}')).toMatchObject({ ok: false });
    expect(parseTemplate('x{y{roblox-name}')).toMatchObject({ ok: false });
  });
});

describe('renderNickname', () => {
  test('each placeholder', () => {
    expect(renderNickname(parts('{roblox-name}|{display-name}|{roblox-id}|{discord-name}'), facts())).toBe('builder_bob|Bob|123|bobby');
  });
  test('the smart name shows the username only when it differs from the display name', () => {
    expect(renderNickname(parts('{smart-name}'), facts())).toBe('Bob (builder_bob)');
    expect(renderNickname(parts('{smart-name}'), facts({ displayName: 'builder_bob' }))).toBe('builder_bob');
  });
  test('a group rank with no rank data renders as nothing, and the result is trimmed', () => {
    expect(renderNickname(parts('{group-rank:7} {roblox-name}'), facts())).toBe('builder_bob');
    expect(renderNickname(parts('{group-rank:7} {roblox-name}'), facts({ groupRank: (id) => (id === '7' ? 'Captain' : undefined) }))).toBe('Captain builder_bob');
  });
  test('too long: the smart name\'s bracket is shortened first, then dropped, then the whole is cut', () => {
    const long = facts({ displayName: 'TheGreatestBuilder', robloxName: 'builder_bob_the_second' });
    const shortened = renderNickname(parts('{smart-name}'), long);
    expect(shortened).toBe('TheGreatestBuilder (builder_bo…)');
    expect(chars(shortened)).toBe(NICKNAME_MAX);
    expect(renderNickname(parts('[Staff of the Realm] {smart-name}'), long)).toBe('[Staff of the Realm] TheGreatest');
    expect(chars(renderNickname(parts('{roblox-name}{roblox-name}'), long))).toBe(NICKNAME_MAX);
  });
  test('never cuts a surrogate pair in half', () => {
    const emoji = facts({ robloxName: '😀'.repeat(40), displayName: '😀'.repeat(40) });
    const nick = renderNickname(parts('{roblox-name}'), emoji);
    expect(nick).toBe('😀'.repeat(32));
    expect(nick.length).toBe(64); // UTF-16 units: whole pairs only
  });
});

describe('planNickname', () => {
  const base = { parts: parts('{smart-name}'), facts: facts(), current: null, untouchable: undefined, bypass: false };
  test('written only when it differs', () => {
    expect(planNickname(base)).toEqual({ change: 'set', nickname: 'Bob (builder_bob)' });
    expect(planNickname({ ...base, current: 'Bob (builder_bob)' })).toEqual({ change: 'none', nickname: 'Bob (builder_bob)' });
  });
  test('members without a link, with the bypass role, the owner or above the bot are left alone, and why is said', () => {
    expect(planNickname({ ...base, facts: undefined })).toEqual({ change: 'none', reason: 'no linked Roblox account' });
    expect(planNickname({ ...base, bypass: true })).toEqual({ change: 'none', reason: 'has the nickname bypass role' });
    expect(planNickname({ ...base, untouchable: 'the server owner' })).toEqual({ change: 'none', nickname: 'Bob (builder_bob)', reason: 'the server owner' });
  });
  test('a template that renders to nothing writes nothing', () => {
    expect(planNickname({ ...base, parts: parts('{group-rank:5}') })).toEqual({ change: 'none', nickname: '' });
  });
});
