// The HTTPS transport: Node's own HTTP client through the shared layer (timeouts, bounded retries,
// Retry-After, extra CA), with an Authorization header from an AuthProvider (AD FS bearer token, or
// the sandbox's Windows-auth stand-in).
import { retryAfterMs, sendWithRetry } from '../http/request.js';
import {
  backoffMs,
  defaultSleep,
  NOT_PROCESSED_STATUSES,
  type RetryPolicy,
  type SendOptions,
  type Transport,
  type WebApiRequest,
  type WebApiResponse,
} from './transport.js';

export interface AuthProvider {
  /** "adfs-password", "negotiate", ... */
  readonly kind: string;
  /** The Authorization header value. */
  authorization(): Promise<string>;
  /** Forget a cached credential after a 401; returns whether trying again can help. */
  invalidate(): boolean;
}

/** A fixed Authorization header (the sandbox's stand-in for Windows integrated authentication). */
export function staticAuth(kind: string, header: string): AuthProvider {
  return { kind, authorization: async () => header, invalidate: () => false };
}

export interface HttpsTransportOptions {
  auth: AuthProvider;
  timeoutMs: number;
  /** PEM of an extra trusted CA (the sandbox's), added to Node's defaults. */
  ca?: string;
  retry?: Partial<RetryPolicy>;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, sleep: defaultSleep };

export class HttpsTransport implements Transport {
  readonly kind: string;
  sent = 0;
  private readonly policy: RetryPolicy;

  constructor(private readonly options: HttpsTransportOptions) {
    this.kind = `https/${options.auth.kind}`;
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
  }

  async send(requests: WebApiRequest[], options: SendOptions): Promise<WebApiResponse[]> {
    const responses: WebApiResponse[] = [];
    for (const req of requests) responses.push(await this.sendOne(req, options));
    return responses;
  }

  private async sendOne(req: WebApiRequest, options: SendOptions): Promise<WebApiResponse> {
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const authorization = await this.options.auth.authorization();
      const res = await sendWithRetry(
        { method: req.method, url: req.url, headers: { ...req.headers, authorization }, body: req.body },
        {
          timeoutMs: this.options.timeoutMs,
          ca: this.options.ca,
          maxAttempts: this.policy.maxAttempts,
          baseDelayMs: this.policy.baseDelayMs,
          maxDelayMs: this.policy.maxDelayMs,
          sleep: this.policy.sleep,
          // A lost answer to a request that is not idempotent must not be replayed blindly: the
          // caller reads the state back instead. 429/503 are handled below for those.
          retryable: () => options.idempotent,
          onRetry: (info) => {
            this.sent++;
            this.policy.onRetry?.(info);
          },
        },
      );
      this.sent++;
      if (res.status === 401 && !refreshed && this.options.auth.invalidate()) {
        refreshed = true;
        continue;
      }
      if (!options.idempotent && NOT_PROCESSED_STATUSES.has(res.status) && attempt < this.policy.maxAttempts) {
        const delayMs = Math.min(
          this.policy.maxDelayMs,
          retryAfterMs(res.headers['retry-after']) ?? backoffMs(attempt, this.policy),
        );
        this.policy.onRetry?.({ attempt, delayMs, reason: `HTTP ${res.status}`, url: req.url });
        await this.policy.sleep(delayMs);
        continue;
      }
      return { status: res.status, headers: res.headers, body: res.body };
    }
  }
}
