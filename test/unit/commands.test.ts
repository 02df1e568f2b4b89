import { describe, expect, test } from 'vitest';
import { COMMANDS } from '../../commands/index';

describe('command definitions', () => {
  // Discord hides a command by its default_member_permissions; the router enforces `permission`.
  // They must say the same, or members would see commands they cannot run (or the reverse).
  test.each(COMMANDS.map((c) => [c.definition.name, c] as const))('/%s: the permission the router enforces is the one Discord is told', (_name, command) => {
    const always = command.permission && command.permission.forOption === undefined ? command.permission.needs.toString() : undefined;
    expect(command.definition.default_member_permissions ?? undefined).toBe(always);
  });
});
