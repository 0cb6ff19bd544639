// One HTTP layer for Graph, the token endpoints and the D365 Web API: a timeout on every call, bounded
// retries with backoff for throttling (429, honouring Retry-After), 503/504 and dropped connections,
// and TLS that trusts an extra CA when given one (the sandbox's test CA) without ever switching checks off.
import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createSecureContext, rootCertificates } from 'node:tls';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** How many attempts it took (1 = no retry). */
  attempts: number;
}

export interface HttpOptions {
  timeoutMs: number;
  /** Attempts in all, including the first. */
  maxAttempts: number;
  /** First backoff delay; doubled each retry, with jitter, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** PEM of extra trusted CAs (added to Node's defaults, never replacing verification). */
  ca?: string;
  /** Called before each retry, for the log. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string; url: string }) => void;
  /** Whether a failed request may be retried (non-idempotent requests decide per call). */
  retryable?: (req: HttpRequest) => boolean;
  sleep?: (ms: number) => Promise<void>;
  /**
   * When set (epoch ms), a Retry-After is honoured as given, not capped at maxDelayMs, as long as the wait ends
   * before this moment; a longer wait fails at once with RetryAfterBeyondBudgetError, naming the wait.
   */
  deadline?: number;
  now?: () => number;
}

/** The server asked to wait longer than the time left. */
export class RetryAfterBeyondBudgetError extends Error {
  constructor(
    readonly waitMs: number,
    readonly leftMs: number,
    readonly status: number,
    url: string,
  ) {
    super(
      `${new URL(url).origin}${new URL(url).pathname} answered HTTP ${status} with Retry-After ${Math.ceil(waitMs / 1000)} s, but only ${Math.max(0, Math.floor(leftMs / 1000))} s of the time budget are left`,
    );
    this.name = 'RetryAfterBeyondBudgetError';
  }
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  timeoutMs: 100_000,
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

export class HttpTimeoutError extends Error {
  constructor(
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${url} within ${timeoutMs / 1000} s`);
  }
}

const RETRY_STATUSES = new Set([429, 503, 504]);
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
const agents = new Map<string, Agent>();

function agentFor(ca: string | undefined): Agent | undefined {
  if (!ca) return undefined;
  let agent = agents.get(ca);
  if (!agent) {
    // Node's default roots plus the extra CA: verification stays on. One secure context per CA:
    // building it from all roots on every connection costs tens of milliseconds.
    agent = new Agent({ keepAlive: true, secureContext: createSecureContext({ ca: [...rootCertificates, ca] }) });
    agents.set(ca, agent);
  }
  return agent;
}

function once(req: HttpRequest, options: HttpOptions): Promise<Omit<HttpResponse, 'attempts'>> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const body =
      req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
    const headers: Record<string, string> = { ...req.headers };
    if (body) headers['content-length'] = String(body.length);
    const clientRequest = send(
      url,
      { method: req.method, headers, agent: url.protocol === 'https:' ? agentFor(options.ca) : undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    clientRequest.setTimeout(options.timeoutMs, () =>
      clientRequest.destroy(new HttpTimeoutError(req.url, options.timeoutMs)),
    );
    clientRequest.on('error', reject);
    clientRequest.end(body);
  });
}

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function backoff(attempt: number, options: HttpOptions): number {
  const exponential = options.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(options.maxDelayMs, exponential / 2 + Math.random() * (exponential / 2));
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends a request, retrying what is worth retrying. Returns the last response (any status) when it
 * got one; throws only when no response came at all (after the retries).
 */
export async function sendWithRetry(req: HttpRequest, partial: Partial<HttpOptions> = {}): Promise<HttpResponse> {
  const options = { ...DEFAULT_HTTP_OPTIONS, ...partial };
  const sleep = options.sleep ?? defaultSleep;
  const mayRetry = options.retryable ? options.retryable(req) : true;
  for (let attempt = 1; ; attempt++) {
    let reason: string;
    let delay: number;
    try {
      const res = await once(req, options);
      if (!RETRY_STATUSES.has(res.status) || !mayRetry || attempt >= options.maxAttempts)
        return { ...res, attempts: attempt };
      reason = `HTTP ${res.status}`;
      const asked = retryAfterMs(res.headers['retry-after']);
      if (asked !== undefined && options.deadline !== undefined) {
        const left = options.deadline - (options.now ?? Date.now)();
        if (asked > left) throw new RetryAfterBeyondBudgetError(asked, left, res.status, req.url);
        delay = asked;
      } else delay = Math.min(options.maxDelayMs, asked ?? backoff(attempt, options));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const transient =
        error instanceof HttpTimeoutError || RETRY_CODES.has(code) || /socket hang up/i.test(String(error));
      if (!transient || !mayRetry || attempt >= options.maxAttempts) throw error;
      reason = error instanceof HttpTimeoutError ? 'timeout' : code || String((error as Error).message);
      delay = backoff(attempt, options);
    }
    options.onRetry?.({ attempt, delayMs: delay, reason, url: req.url });
    await sleep(delay);
  }
}
