// How Web API requests leave the process. The client speaks in requests and responses; a transport
// adds the authentication: a bearer token from AD FS over HTTPS, or the runner's own Windows identity
// through Windows PowerShell (Invoke-RestMethod -UseDefaultCredentials). Tests use the HTTPS transport
// with the sandbox's Windows-auth stand-in.

export type WebApiMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface WebApiRequest {
  method: WebApiMethod;
  /** Absolute URL. */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface WebApiResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

export interface SendOptions {
  /**
   * Whether the requests may be sent again when their answer is lost (reset, timeout, 502/504).
   * PATCHes that set absolute values are; a POST that creates a record is not. 429 and 503 are
   * retried either way: D365 and IIS send them before doing anything.
   */
  idempotent: boolean;
}

export interface Transport {
  /** "https" (bearer or sandbox stand-in) or "windows" (PowerShell); for the run record. */
  readonly kind: string;
  /** Sends the requests in order and returns one response per request, in the same order. */
  send(requests: WebApiRequest[], options: SendOptions): Promise<WebApiResponse[]>;
  /** HTTP requests this transport sent to D365 (retries included, token requests excluded). */
  readonly sent: number;
}

/** Statuses that mean "not processed, try later". */
export const NOT_PROCESSED_STATUSES = new Set([429, 503]);
/** Statuses after which the request may or may not have been processed. */
export const MAYBE_PROCESSED_STATUSES = new Set([502, 504]);

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; url: string }) => void;
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(policy.maxDelayMs, exponential / 2 + Math.random() * (exponential / 2));
}

/** Lower-cases header names (PowerShell and Node disagree on case). */
export function lowerCaseHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
  }
  return out;
}

/** The path and query of a URL without its origin, for messages ("PATCH mailboxes(…)"). */
export function describeRequest(req: Pick<WebApiRequest, 'method' | 'url'>, apiBase?: string): string {
  let target = req.url;
  if (apiBase && target.startsWith(apiBase)) target = target.slice(apiBase.length);
  else target = target.replace(/^https?:\/\/[^/]+/, '');
  const queryAt = target.indexOf('?');
  if (queryAt >= 0 && target.length > 160) target = target.slice(0, Math.min(target.length, 160)) + '…';
  return `${req.method} ${target}`;
}
