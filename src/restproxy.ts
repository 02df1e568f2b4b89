// The REST proxy every shard process sends its Discord requests through (@discordjs/proxy): one
// @discordjs/rest queue, so Discord's global 50 requests a second and its buckets are counted once
// for the bot, not once per process. npm start's manager runs it on a free loopback port; run on
// its own (dist/proxy.mjs, gatepass-proxy.service) it listens on REST_PROXY_URL.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { type AddressInfo, connect } from 'node:net';
import { populateErrorResponse, populateSuccessfulResponse } from '@discordjs/proxy';
import { REST, type RequestMethod, type RESTOptions, type RouteLike } from '@discordjs/rest';
import type { Logger } from './log';

export interface RestProxy {
  /** What a shard process's REST client takes as its API base, e.g. http://127.0.0.1:41234/api */
  apiUrl: string;
  /** The proxy's own queue (it forwards each shard's Authorization header; a token set here is only for the caller's own requests). */
  rest: REST;
  close(): Promise<void>;
}

/** The API base a shard process uses for a proxy listening at `origin` (REST_PROXY_URL). */
export const proxyApiUrl = (origin: string) => `${origin.replace(/\/+$/, '')}/api`;

/** Where a proxy at `origin` (REST_PROXY_URL) listens: an IPv6 host without its brackets. */
export function proxyAddress(origin: string): { host: string; port: number } {
  const { hostname, port } = new URL(origin);
  return { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) };
}

/**
 * Listens on `host`:`port` (0: a free one); `host` must be a loopback address (see restProxyUrlProblem
 * in config.ts). `rest`: benchmarks scale the queue's global rate with time, as they do the bot's.
 */
export async function startRestProxy(options: { discordApiBaseUrl: string; host: string; port: number; log: Logger; rest?: Partial<RESTOptions> }): Promise<RestProxy> {
  const { log } = options;
  const rest = new REST({ ...options.rest, api: options.discordApiBaseUrl });
  rest.on('rateLimited', (info) => log.debug({ route: info.route, retryAfter: info.timeToReset, scope: info.scope, global: info.global }, 'discord rate limit (all shards)'));
  const handle = forward(rest);
  const server: Server = createServer((req, res) => {
    // The proxy sets the status of every answer it understands; anything else (Discord unreachable)
    // ends as this 502, which the shard's own REST client retries, rather than an empty 200.
    res.statusCode = 502;
    Promise.resolve(handle(req, res)).catch((error: unknown) => {
      log.warn({ err: error, method: req.method }, 'REST proxy: request to Discord failed');
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    apiUrl: proxyApiUrl(`http://${host}:${port}`),
    rest,
    // Idle connections close at once; a request under way is let finish.
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Waits until something accepts connections at the proxy's `origin`, up to `timeoutMs`. A shard
 * process started before its proxy (systemd starts them together; After= orders only the start of
 * the proxy's process, not its listening) waits rather than fail its first request.
 */
export async function proxyListening(origin: string, timeoutMs: number, onWait: () => void): Promise<boolean> {
  const { host, port } = proxyAddress(origin);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (await accepts(host, port)) return true;
    if (Date.now() >= deadline) return false;
    if (attempt === 0) onWait();
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * 2 ** attempt)));
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * @discordjs/proxy's proxyRequests, but with the body read whole before it is queued. proxyRequests
 * hands the incoming stream itself to the queue, and a retry (after a 429 or a 5xx) finds it
 * consumed: the retry went to Discord with no body, a nickname or an interaction's answer lost.
 */
function forward(rest: REST) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const body = await buffer(req);
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'authorization', 'x-audit-log-reason']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      const answer = await rest.queueRequest({
        fullRoute: url.pathname.replace(/^\/api(\/v\d+)?/, '') as RouteLike,
        // Discord itself answers a method it does not know.
        method: req.method as RequestMethod,
        query: url.searchParams,
        headers,
        // The shard's own Authorization header goes through as it is.
        auth: false,
        body: body.length > 0 ? body : undefined,
        passThroughBody: true,
      });
      await populateSuccessfulResponse(res, answer);
    } catch (error) {
      if (!populateErrorResponse(res, error)) throw error;
    } finally {
      res.end();
    }
  };
}
