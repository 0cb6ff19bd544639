// The `windows` transport: Windows integrated authentication with the runner's own identity. Node
// cannot do Kerberos/NTLM by itself, so the requests go to Windows PowerShell, which sends them with
// Invoke-RestMethod -UseDefaultCredentials in one process per call and returns status, headers and
// body as JSON. No secret exists anywhere on this path. This file is only the adapter: the PowerShell
// runner (src/powershell) is handed in as an invoker.
import { retryAfterMs } from '../http/request.js';
import {
  backoffMs,
  defaultSleep,
  lowerCaseHeaders,
  MAYBE_PROCESSED_STATUSES,
  NOT_PROCESSED_STATUSES,
  type RetryPolicy,
  type SendOptions,
  type Transport,
  type WebApiRequest,
  type WebApiResponse,
} from './transport.js';

/** One request as the PowerShell `webapi` phase takes it (parameters.requests[]). */
export interface PowerShellWebApiRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** One answer as the PowerShell `webapi` phase returns it; body may arrive parsed (Invoke-RestMethod). */
export interface PowerShellWebApiResponse {
  status: number;
  headers?: Record<string, unknown>;
  body?: unknown;
}

/**
 * Runs the requests in one Windows PowerShell process, in order, and returns one answer per request.
 * Wire it to src/powershell: (requests, { timeoutMs }) =>
 *   invokePowerShellPhase({ phase: 'webapi', mode, parameters: { requests }, timeoutMs }, runtime)
 */
export type PowerShellWebApiInvoker = (
  requests: PowerShellWebApiRequest[],
  options: { timeoutMs: number },
) => Promise<PowerShellWebApiResponse[]>;

export interface WindowsTransportOptions {
  /** Timeout of one request; the process gets this per request plus a start-up allowance. */
  timeoutMs: number;
  retry?: Partial<RetryPolicy>;
}

/**
 * Invoker failures that trying again within seconds cannot fix: no PowerShell to start, or a host name that does not
 * exist (Windows: "No such host is known", .NET Framework: "The remote name could not be resolved", Linux: "Name or
 * service not known"). Retrying them only adds PowerShell starts and backoff: `plan` on a config whose D365 is not
 * reachable from here took 20 s doing so.
 */
const PERMANENT_FAILURE =
  /No PowerShell found|Could not start PowerShell|No such host is known|remote name could not be resolved|Name or service not known|nodename nor servname provided/i;

/** Windows PowerShell needs a few seconds to start and load; added to each process's timeout. */
const PROCESS_STARTUP_MS = 30_000;

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  return JSON.stringify(body);
}

export class WindowsTransport implements Transport {
  readonly kind = 'windows';
  sent = 0;
  private readonly policy: RetryPolicy;

  constructor(
    private readonly invoke: PowerShellWebApiInvoker,
    private readonly options: WindowsTransportOptions,
  ) {
    this.policy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, sleep: defaultSleep, ...options.retry };
  }

  async send(requests: WebApiRequest[], options: SendOptions): Promise<WebApiResponse[]> {
    const results: (WebApiResponse | undefined)[] = new Array(requests.length).fill(undefined);
    let pending = requests.map((_, index) => index);
    for (let attempt = 1; pending.length; attempt++) {
      const batch = pending.map((index) => {
        const req = requests[index]!;
        return {
          method: req.method,
          url: req.url,
          headers: req.headers,
          ...(req.body !== undefined ? { body: req.body } : {}),
        };
      });
      let answers: PowerShellWebApiResponse[];
      try {
        answers = await this.invoke(batch, { timeoutMs: this.options.timeoutMs * batch.length + PROCESS_STARTUP_MS });
      } catch (error) {
        // The process died or timed out: requests that are safe to replay go again, others are reported.
        if (!options.idempotent || attempt >= this.policy.maxAttempts || PERMANENT_FAILURE.test(String(error))) {
          throw new Error(
            `Windows PowerShell (Invoke-RestMethod -UseDefaultCredentials) failed: ${(error as Error).message}`,
            { cause: error },
          );
        }
        const delayMs = backoffMs(attempt, this.policy);
        this.policy.onRetry?.({ attempt, delayMs, reason: (error as Error).message, url: requests[pending[0]!]!.url });
        await this.policy.sleep(delayMs);
        continue;
      }
      this.sent += batch.length;
      if (!Array.isArray(answers) || answers.length !== batch.length) {
        throw new Error(
          `Windows PowerShell returned ${Array.isArray(answers) ? answers.length : 'no'} answers for ${batch.length} Web API requests`,
        );
      }
      const again: number[] = [];
      let delayMs = 0;
      let reason = '';
      answers.forEach((answer, position) => {
        const index = pending[position]!;
        const response: WebApiResponse = {
          status: Number(answer.status) || 0,
          headers: lowerCaseHeaders(answer.headers),
          body: bodyText(answer.body),
        };
        const retryable =
          NOT_PROCESSED_STATUSES.has(response.status) ||
          (options.idempotent && MAYBE_PROCESSED_STATUSES.has(response.status));
        if (retryable && attempt < this.policy.maxAttempts) {
          again.push(index);
          reason ||= `HTTP ${response.status}`;
          delayMs = Math.max(delayMs, retryAfterMs(response.headers['retry-after']) ?? backoffMs(attempt, this.policy));
        } else {
          results[index] = response;
        }
      });
      pending = again;
      if (pending.length) {
        delayMs = Math.min(this.policy.maxDelayMs, delayMs);
        this.policy.onRetry?.({ attempt, delayMs, reason, url: requests[pending[0]!]!.url });
        await this.policy.sleep(delayMs);
      }
    }
    return results as WebApiResponse[];
  }
}
