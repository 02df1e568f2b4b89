// Which Discord account holds the browser: Discord OAuth2 with the `identify` scope, used only to
// check that whoever finishes a sign-in is the member who ran /verify. No token is kept.

import { z } from 'zod';

export interface DiscordOAuth {
  clientId: string;
  clientSecret: string;
  /** DISCORD_API_BASE_URL, e.g. https://discord.com/api; the authorize page is on the site itself. */
  apiBaseUrl: string;
  redirectUri: string;
}

export function discordAuthorizeUrl(o: DiscordOAuth, state: string): string {
  const url = new URL(`${o.apiBaseUrl.replace(/\/+$/, '').replace(/\/api$/, '')}/oauth2/authorize`);
  // prompt=none: someone who already allowed it is sent straight back.
  url.search = new URLSearchParams({ client_id: o.clientId, response_type: 'code', scope: 'identify', redirect_uri: o.redirectUri, state, prompt: 'none' }).toString();
  return url.toString();
}

const token = z.object({ access_token: z.string().min(1), token_type: z.string() });
const user = z.object({ id: z.string().regex(/^\d+$/) });

/** The Discord user id behind an authorization code, or why it could not be learned. */
export async function discordUserFromCode(o: DiscordOAuth, code: string): Promise<{ ok: true; id: string } | { ok: false; detail: string }> {
  const base = o.apiBaseUrl.replace(/\/+$/, '');
  try {
    const exchanged = await fetch(`${base}/v10/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${o.clientId}:${o.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: o.redirectUri }),
      signal: AbortSignal.timeout(10_000),
    });
    const parsedToken = token.safeParse(await exchanged.json().catch(() => undefined));
    if (!exchanged.ok || !parsedToken.success) return { ok: false, detail: `token exchange answered HTTP ${exchanged.status}` };
    const me = await fetch(`${base}/v10/users/@me`, { headers: { authorization: `Bearer ${parsedToken.data.access_token}` }, signal: AbortSignal.timeout(10_000) });
    const parsedUser = user.safeParse(await me.json().catch(() => undefined));
    if (!me.ok || !parsedUser.success) return { ok: false, detail: `users/@me answered HTTP ${me.status}` };
    return { ok: true, id: parsedUser.data.id };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}
