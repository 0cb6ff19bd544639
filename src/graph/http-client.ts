// Puts @azure/identity (and the MSAL inside it) on the toolkit's own HTTP layer: the same timeouts,
// bounded retries honouring Retry-After, and extra trusted CA (the sandbox's test CA) as the Graph
// calls, instead of the Azure SDK's default client. Certificate checks stay on: the extra CA is added
// to Node's roots, never replaces them.
import type { ClientSecretCredentialOptions } from '@azure/identity';
import { sendWithRetry, type HttpOptions, type HttpRequest } from '../http/request.js';

// The Azure SDK's HttpClient contract, taken from @azure/identity's own option types so this module
// does not depend on @azure/core-rest-pipeline directly.
export type AzureHttpClient = NonNullable<ClientSecretCredentialOptions['httpClient']>;
type PipelineRequest = Parameters<AzureHttpClient['sendRequest']>[0];
type PipelineResponse = Awaited<ReturnType<AzureHttpClient['sendRequest']>>;
type HttpHeaders = PipelineResponse['headers'];

class Headers implements HttpHeaders {
  private readonly map = new Map<string, { name: string; value: string }>();

  constructor(raw: Record<string, string> = {}) {
    for (const [name, value] of Object.entries(raw)) this.set(name, value);
  }

  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase())?.value;
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  set(name: string, value: string | number | boolean): void {
    this.map.set(name.toLowerCase(), { name, value: String(value) });
  }

  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }

  toJSON(options?: { preserveCase?: boolean }): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, entry] of this.map) out[options?.preserveCase ? entry.name : key] = entry.value;
    return out;
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    for (const [key, entry] of this.map) yield [key, entry.value];
  }
}

const METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);

/** An Azure SDK HttpClient that remembers its last transport problem, for the sign-in error message. */
export interface DiagnosingHttpClient extends AzureHttpClient {
  /** The last problem seen (no answer, an HTTP error, a body that is not JSON); cleared by takeProblem. */
  takeProblem(): string | undefined;
}

const where = (url: string) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

/** An Azure SDK HttpClient that sends through sendWithRetry (timeouts, retries, extra CA). */
export function createAzureHttpClient(http: Partial<HttpOptions>): DiagnosingHttpClient {
  let problem: string | undefined;
  return {
    takeProblem() {
      const last = problem;
      problem = undefined;
      return last;
    },
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      if (!METHODS.has(request.method)) throw new Error(`unsupported HTTP method ${request.method} for ${request.url}`);
      const body = request.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !Buffer.isBuffer(body)) {
        throw new Error(`unsupported request body type for ${request.url}`);
      }
      const req: HttpRequest = {
        method: request.method as HttpRequest['method'],
        url: request.url,
        headers: request.headers.toJSON({ preserveCase: true }),
        ...(body !== undefined && body !== null ? { body } : {}),
      };
      const options: Partial<HttpOptions> = { ...http };
      if (request.timeout > 0) options.timeoutMs = Math.min(request.timeout, http.timeoutMs ?? request.timeout);
      let res;
      try {
        res = await sendWithRetry(req, options);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problem = `${request.method} ${where(request.url)} got no answer: ${code ?? (error as Error).message}`;
        throw error;
      }
      if (res.status >= 500 || res.status === 429) {
        problem = `${request.method} ${where(request.url)} answered HTTP ${res.status} after ${res.attempts} attempt(s)`;
      } else if (res.status < 300 && /json/i.test(res.headers['content-type'] ?? '')) {
        try {
          JSON.parse(res.body);
        } catch {
          problem = `${request.method} ${where(request.url)} answered HTTP ${res.status} with a body that is not JSON`;
        }
      }
      return { request, status: res.status, headers: new Headers(res.headers), bodyAsText: res.body };
    },
  };
}
