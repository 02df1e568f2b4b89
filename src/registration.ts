import type { APIApplicationCommand, ApplicationCommand, ClientApplication, RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';

/** Registers the global commands only when Discord's copy differs: a boot normally sends nothing. */
export async function ensureCommandsRegistered(application: ClientApplication, definitions: readonly RESTPostAPIChatInputApplicationCommandsJSONBody[]): Promise<boolean> {
  const existing = await application.commands.fetch();
  const same =
    existing.size === definitions.length &&
    definitions.every((definition) => {
      const current = existing.find((c) => c.name === definition.name);
      return current !== undefined && // equals() reads raw API field names too; its typing only lists the full command object.
        current.equals(definition as unknown as APIApplicationCommand, true) && sameContexts(current, definition);
    });
  if (same) return false;
  await application.commands.set([...definitions]);
  return true;
}

function sameContexts(current: ApplicationCommand, definition: RESTPostAPIChatInputApplicationCommandsJSONBody): boolean {
  return JSON.stringify(current.contexts ?? null) === JSON.stringify(definition.contexts ?? null);
}
