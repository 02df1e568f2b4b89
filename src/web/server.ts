// The bot's HTTP server (HTTP_PORT): /healthz and /metrics for operators, and the Sign in with
// Roblox pages when OAuth is configured.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Health } from '../health';
import type { Logger } from '../log';
import type { SignIns } from '../oauth/signin';
import { page } from './pages';

export interface WebDeps {
  log: Logger;
  signIns?: SignIns;
  /** PUBLIC_URL is https: the sign-in cookie is a Secure `__Host-` cookie. */
  secureCookies: boolean;
  health: () => Promise<Health>;
  metrics: Registry;
}

export interface WebServer {
  port: number;
  close(): Promise<void>;
}

const MAX_FORM_BYTES = 4_096;

type Reply = { status: number; body: string; headers?: Record<string, string> };

const text = (status: number, body: string, contentType: string): Reply => ({ status, body, headers: { 'content-type': contentType } });

export async function startWebServer(port: number, deps: WebDeps): Promise<WebServer> {
  const server = createServer((req, res) => {
    route(req, deps)
      .catch((error: unknown) => {
        deps.log.error({ err: error, path: req.url?.split('?')[0] }, 'web request failed');
        return { status: 500, body: page('Something went wrong', ['The bot could not finish this request. Nothing was changed; please try again from Discord.']) };
      })
      .then((reply) => send(res, reply));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Over https the cookie gets the `__Host-` prefix: browsers then accept it only with Secure, for
 * the whole host and no Domain, so no other host (a sibling subdomain) can set or shadow it.
 */
function signInCookie(secure: boolean) {
  const name = secure ? '__Host-gatepass_signin' : 'gatepass_signin';
  const scope = secure ? 'Path=/; Secure' : 'Path=/oauth';
  return { name, set: (value: string) => `${name}=${value}; ${scope}; Max-Age=600; HttpOnly; SameSite=Lax`, clear: `${name}=; ${scope}; Max-Age=0` };
}

async function route(req: IncomingMessage, deps: WebDeps): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const cookie = signInCookie(deps.secureCookies);
  if (url.pathname === '/healthz' && req.method === 'GET') {
    const health = await deps.health();
    return text(health.ok ? 200 : 503, JSON.stringify(health), 'application/json');
  }
  if (url.pathname === '/metrics' && req.method === 'GET') return text(200, await deps.metrics.metrics(), deps.metrics.contentType);
  const signIns = deps.signIns;
  if (signIns && url.pathname === '/oauth/start' && req.method === 'GET') {
    // Side-effect free: Discord and chat apps fetch links to preview them.
    const state = url.searchParams.get('state') ?? '';
    const view = await signIns.view(state);
    if (!view.ok) return { status: 410, body: page(view.title, [view.message]) };
    return {
      status: 200,
      body: page(
        'Sign in with Roblox',
        [
          `This link links a Roblox account to the Discord user ${view.requesterName} (server: ${view.serverName}).`,
          `Only continue if you are ${view.requesterName}. If someone sent you this link, choose "This isn't me": nothing will be linked.`,
        ],
        { action: '/oauth/start', fields: { state }, buttons: [{ name: 'action', value: 'continue', label: 'Continue to Roblox' }, { name: 'action', value: 'cancel', label: "This isn't me" }] },
      ),
    };
  }
  if (signIns && url.pathname === '/oauth/start' && req.method === 'POST') {
    const form = await readForm(req);
    if (!form) return { status: 400, body: page('That did not work', ['The form could not be read. Open the link from /verify again.']) };
    const state = form.get('state') ?? '';
    if (form.get('action') === 'cancel') {
      await signIns.cancel(state);
      return { status: 200, body: page('Nothing was linked', ['The sign-in was cancelled and its link no longer works. You can close this tab.']) };
    }
    const begun = await signIns.begin(state);
    if (!begun.ok) return { status: 410, body: page(begun.title, [begun.message]) };
    return { status: 303, body: '', headers: { location: begun.redirect, 'set-cookie': cookie.set(begun.cookie) } };
  }
  if (signIns && url.pathname === '/oauth/discord' && req.method === 'GET') {
    const checked = await signIns.confirmDiscord(url.searchParams, readCookie(req, cookie.name));
    if (!checked.ok) return { status: 403, body: page(checked.title, [checked.message]), headers: { 'set-cookie': cookie.clear } };
    return { status: 303, body: '', headers: { location: checked.redirect } };
  }
  if (signIns && url.pathname === '/oauth/callback' && req.method === 'GET') {
    const outcome = await signIns.finish(url.searchParams, readCookie(req, cookie.name));
    if (outcome.kind === 'failed') return { status: 400, body: page(outcome.title, [outcome.message]), headers: { 'set-cookie': cookie.clear } };
    const lines = [`Your Discord account is now linked to the Roblox account ${outcome.robloxName}. Your roles are being updated; you can close this tab.`];
    if (!outcome.inventoryScope) lines.push('You did not allow reading your inventory, so private items and private servers cannot be checked. Run /verify again to allow it.');
    return { status: 200, body: page(`Linked to ${outcome.robloxName} — you can close this tab`, lines), headers: { 'set-cookie': cookie.clear } };
  }
  return { status: 404, body: page('Not found', ['There is nothing here.']) };
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The state travels in URLs: never hand it to another site in a Referer.
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    ...reply.headers,
  });
  res.end(reply.body);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return undefined;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
