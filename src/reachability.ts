// A service the bot cannot reach at all (no DNS answer, connection refused, no route, timed out)
// is named at start-up in one plain sentence, instead of an error object with a stack.

import { connect } from 'node:net';

/** Codes Node and undici give to failures to reach a host at all, as opposed to a bad answer. */
const NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** The system's own words for a failure to reach the host (`getaddrinfo ENOTFOUND discord.com`), if that is what `error` is. */
export function networkFailure(error: unknown): string | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return cause.message;
  }
  return undefined;
}

export function cannotReach(service: string, url: string, why: string, variable: string): string {
  return `Cannot reach ${service} at ${url} (${why}): check this machine's network and DNS, and ${variable}.`;
}

/**
 * Opens (and drops) a connection to each URL's host: what can fail before any request is made.
 * No request is sent, so no credentials and none of Roblox's budget are spent. Returns one line
 * naming every host that cannot be reached, or undefined.
 */
export async function unreachableHosts(service: string, urls: readonly string[], variable: string, timeoutMs = 10_000): Promise<string | undefined> {
  const origins = [...new Set(urls.map((url) => new URL(url).origin))];
  const failures = (await Promise.all(origins.map(async (origin) => ({ origin, why: await tryConnect(new URL(origin), timeoutMs) })))).filter((f) => f.why !== undefined);
  if (failures.length === 0) return undefined;
  return cannotReach(service, failures.map((f) => f.origin).join(' and '), failures.map((f) => f.why).join('; '), variable);
}

function tryConnect(url: URL, timeoutMs: number): Promise<string | undefined> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(`no connection within ${timeoutMs / 1000} s`);
    });
    socket.once('error', (error) => resolve(networkFailure(error) ?? error.message));
  });
}
