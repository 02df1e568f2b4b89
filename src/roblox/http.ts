// One way to call Roblox: budgeted, timed out, retried within bounds, and every answer classified.
// Callers get a value or a failure with a reason; they never see an exception for an HTTP problem.

import type { z } from 'zod';
import { type Clock, systemClock } from '../clock';
import type { Budget, Wait } from './budget';
import type { KeyGuard } from './keyguard';

export type FailureKind =
  | 'private' // 403: inventory hidden, or a scope missing
  | 'not_found' // 404: the Roblox user does not exist (any more)
  | 'rate_limited' // 429 that outlasted our retries
  | 'unavailable' // 5xx or network error that outlasted our retries
  | 'timeout'
  | 'bad_response' // 2xx we could not read
  | 'auth' // the API key was refused
  | 'invalid_request'; // other 4xx: a bug on our side

export interface RobloxFailure {
  kind: FailureKind;
  status?: number;
  /** Roblox's error code when it gave one (`code`, or OAuth's `error` such as "invalid_grant"). */
  code?: string;
  /** For logs: what happened, never the key. */
  detail: string;
}

export type RobloxResult<T> = { ok: true; value: T } | { ok: false; failure: RobloxFailure };

export interface RobloxHttpOptions {
  timeoutMs: number;
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** A 429 asking for a longer wait than this fails the call instead of holding it. */
  maxRetryWaitMs: number;
  backoffBaseMs: number;
  clock: Clock;
  /** Hears every attempt's URL and HTTP status ("timeout" or "network" when none came), for metrics. */
  observe?: (url: URL, status: string) => void;
}

export const DEFAULT_HTTP_OPTIONS: RobloxHttpOptions = {
  timeoutMs: 10_000,
  maxAttempts: 3,
  maxRetryWaitMs: 60_000,
  backoffBaseMs: 1_000,
  clock: systemClock,
};

export interface RobloxRequest<T> {
  url: URL;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent as JSON; a URLSearchParams is sent form-encoded, as the OAuth endpoints want. */
  body?: unknown;
  budget: Budget;
  schema: z.ZodType<T>;
  /** Set for calls made with the API key: a rejected key stops them all for a while. */
  keyGuard?: KeyGuard;
  /** A member is waiting on this answer: it goes ahead of the background cycle. */
  priority?: boolean;
  /** Hears the member's place in the budget's line while they wait, then position 0 as it is sent. */
  onWait?: (wait: Wait) => void;
  /** A 2xx with no body is a success (revocation answers that way). */
  emptyOk?: boolean;
}

export async function robloxCall<T>(request: RobloxRequest<T>, options: RobloxHttpOptions): Promise<RobloxResult<T>> {
  const ticket = request.keyGuard?.admit() ?? 'go';
  if (ticket === 'blocked') return { ok: false, failure: { kind: 'auth', detail: 'the API key was rejected; waiting before trying it again' } };
  const result = await attempts(request, options);
  if (!result.ok && result.failure.kind === 'auth') request.keyGuard?.rejected(ticket, result.failure.detail);
  else if (result.ok || result.failure.status !== undefined) request.keyGuard?.accepted();
  return result;
}

async function attempts<T>(request: RobloxRequest<T>, options: RobloxHttpOptions): Promise<RobloxResult<T>> {
  let last: RobloxFailure = { kind: 'unavailable', detail: 'not attempted' };
  for (let attempt = 0; attempt < options.maxAttempts; attempt++) {
    const landed = await takeSlot(request);
    if (!landed) return { ok: false, failure: { kind: 'unavailable', detail: 'the shared rate budget (Redis) could not be reached' } };
    request.onWait?.({ position: 0, etaMs: 0 });
    const answer = await send(request, options);
    landed();
    options.observe?.(request.url, answer.kind === 'response' ? String(answer.response.status) : answer.failure.kind === 'timeout' ? 'timeout' : 'network');
    if (answer.kind === 'response') {
      const { response, text } = answer;
      observeRateHeaders(response.headers, request.budget);
      const outcome = classify(response.status, text, request.schema, request.emptyOk);
      if (outcome.ok) return outcome;
      last = outcome.failure;
      if (response.status === 429) {
        const wait = retryAfterMs(response.headers) ?? backoffMs(attempt, options);
        if (wait > options.maxRetryWaitMs) break;
        request.budget.pauseFor(wait);
        continue;
      }
      if (response.status < 500) return outcome;
    } else {
      last = answer.failure;
    }
    if (attempt + 1 < options.maxAttempts) await options.clock.sleep(backoffMs(attempt, options));
  }
  return { ok: false, failure: last };
}

/** A slot of the request's budget; undefined when a shared budget's store cannot be reached. */
async function takeSlot<T>(request: RobloxRequest<T>): Promise<(() => void) | undefined> {
  try {
    return await request.budget.take(request.priority, request.onWait);
  } catch {
    return undefined;
  }
}

type Sent = { kind: 'response'; response: Response; text: string } | { kind: 'failed'; failure: RobloxFailure };

async function send<T>(request: RobloxRequest<T>, options: RobloxHttpOptions): Promise<Sent> {
  const where = `${request.method ?? 'GET'} ${request.url.pathname}`;
  try {
    const response = await fetch(request.url, {
      method: request.method ?? 'GET',
      headers: { accept: 'application/json', ...request.headers },
      // fetch sets the content type: JSON here, form-encoded for URLSearchParams.
      body: request.body === undefined || request.body instanceof URLSearchParams ? request.body : new Blob([JSON.stringify(request.body)], { type: 'application/json' }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    return { kind: 'response', response, text: await response.text() };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return { kind: 'failed', failure: { kind: 'timeout', detail: `${where}: no answer within ${options.timeoutMs} ms` } };
    }
    const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    return { kind: 'failed', failure: { kind: 'unavailable', detail: `${where}: ${message}` } };
  }
}

function classify<T>(status: number, text: string, schema: z.ZodType<T>, emptyOk = false): RobloxResult<T> {
  const body = parseJson(text);
  const code = errorCode(body);
  const fail = (kind: FailureKind, detail: string): RobloxResult<T> => ({ ok: false, failure: { kind, status, detail, ...(code ? { code } : {}) } });
  // Credential problems come either as 401 or as the gateway's {"errors":[…]} body with any status.
  if (status === 401 || (status >= 400 && isGatewayError(body))) return fail('auth', `HTTP ${status} ${code}`.trim());
  if (status === 403) return fail('private', `HTTP 403 ${code}`.trim());
  if (status === 404) return fail('not_found', `HTTP 404 ${code}`.trim());
  if (status === 429) return fail('rate_limited', 'HTTP 429');
  if (status >= 500) return fail('unavailable', `HTTP ${status} ${code}`.trim());
  if (status >= 300) return fail('invalid_request', `HTTP ${status} ${code}`.trim());
  if (body === undefined && emptyOk && text === '') return { ok: true, value: undefined as T };
  if (body === undefined) return fail('bad_response', `HTTP ${status} with a body that is not JSON`);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail('bad_response', `unexpected response shape at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`);
  }
  return { ok: true, value: parsed.data };
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

function isGatewayError(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Array.isArray((body as { errors?: unknown }).errors);
}

function errorCode(body: unknown): string {
  const { code, error } = typeof body === 'object' && body !== null ? (body as { code?: unknown; error?: unknown }) : {};
  return typeof code === 'string' ? code : typeof error === 'string' ? error : '';
}

function observeRateHeaders(headers: Headers, budget: Budget): void {
  // "x-ratelimit-limit" may list several windows ("100, 100;w=60"); remaining and reset are plain numbers.
  const number = (name: string) => {
    const value = Number(headers.get(name) ?? Number.NaN);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  budget.observe(number('x-ratelimit-remaining'), number('x-ratelimit-reset'));
}

function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Exponential backoff with full jitter between half and all of the step. */
function backoffMs(attempt: number, options: RobloxHttpOptions): number {
  const step = Math.min(30_000, options.backoffBaseMs * 2 ** attempt);
  return step / 2 + Math.random() * (step / 2);
}
