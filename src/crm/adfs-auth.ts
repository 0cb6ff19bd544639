// OAuth 2.0 password grant at the AD FS token endpoint (AD FS 2016 or later; AD FS 2012 R2 refuses it
// with MSIS9611). The service account's user name and password come from environment variables the
// config names; both, and every token, are registered with the host's mask before they are used.
import { sendWithRetry } from '../http/request.js';
import type { AuthProvider } from './https-transport.js';
import { defaultSleep, type RetryPolicy } from './transport.js';

export interface AdfsPasswordOptions {
  tokenEndpoint: string;
  clientId: string;
  resource: string;
  username: string;
  password: string;
  /** OAuth scope, only when configured (the AD FS password flow does not need one). */
  scope?: string;
  timeoutMs: number;
  ca?: string;
  /** Registers a value with the host's mask (host.registerSecret). */
  registerSecret: (value: string) => void;
  now?: () => number;
  retry?: Partial<RetryPolicy>;
}

/** Refresh this long before AD FS says the token expires. */
const EXPIRY_MARGIN_MS = 60_000;

const MSIS_HINTS: Array<[RegExp, string]> = [
  [
    /MSIS9611/,
    'this AD FS does not allow the password grant (AD FS 2012 R2): use AD FS 2016 or later, or auth: windows on a domain-joined runner',
  ],
  [
    /MSIS9329/,
    'deployment.webApi.resource must equal a relying party identifier of D365: take resource_id from the WWW-Authenticate header D365 sends to an unauthenticated GET of /api/data/v9.0/WhoAmI',
  ],
  [
    /MSIS9659|invalid_grant/,
    'the user name or password is wrong, the account is locked, or MFA/extranet lockout applies to it',
  ],
  [
    /MSIS9223|MSIS9224|invalid_client|unauthorized_client/,
    'deployment.webApi.clientId is not registered in AD FS (Add-AdfsClient; on AD FS 2016+ also Grant-AdfsApplicationPermission)',
  ],
];

export class AdfsTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AdfsTokenError';
  }
}

export class AdfsPasswordAuth implements AuthProvider {
  readonly kind = 'adfs-password';
  /** Tokens obtained so far (for tests and the run record). */
  tokensIssued = 0;
  private token?: { value: string; expiresAt: number };
  private pending?: Promise<string>;
  private readonly now: () => number;

  constructor(private readonly options: AdfsPasswordOptions) {
    this.now = options.now ?? Date.now;
    options.registerSecret(options.password);
    options.registerSecret(options.username);
  }

  async authorization(): Promise<string> {
    if (this.token && this.now() < this.token.expiresAt - EXPIRY_MARGIN_MS) return `Bearer ${this.token.value}`;
    this.pending ??= this.acquire().finally(() => (this.pending = undefined));
    return `Bearer ${await this.pending}`;
  }

  invalidate(): boolean {
    this.token = undefined;
    return true;
  }

  private async acquire(): Promise<string> {
    // What the AD FS 2016+ password flow documents ("AD FS OpenID Connect/OAuth flows and application
    // scenarios", resource owner password credentials grant): nothing else unless configured.
    const form = new URLSearchParams({
      grant_type: 'password',
      client_id: this.options.clientId,
      resource: this.options.resource,
      username: this.options.username,
      password: this.options.password,
      ...(this.options.scope ? { scope: this.options.scope } : {}),
    }).toString();
    const retry = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 10_000, sleep: defaultSleep, ...this.options.retry };
    let res;
    try {
      res = await sendWithRetry(
        {
          method: 'POST',
          url: this.options.tokenEndpoint,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: form,
        },
        { timeoutMs: this.options.timeoutMs, ca: this.options.ca, ...retry },
      );
    } catch (error) {
      throw new AdfsTokenError(
        `AD FS token endpoint ${this.options.tokenEndpoint} did not answer: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let body: { access_token?: string; expires_in?: number | string; error?: unknown; error_description?: string } = {};
    try {
      body = JSON.parse(res.body) as typeof body;
    } catch {
      body = {};
    }
    if (res.status !== 200 || !body.access_token) {
      // OAuth errors are a string; a proxy or the service in front of AD FS may answer {error: {code, message}}.
      const error =
        body.error && typeof body.error === 'object'
          ? [(body.error as { code?: unknown }).code, (body.error as { message?: unknown }).message]
              .filter((part) => typeof part === 'string' && part)
              .join(': ')
          : body.error;
      const said =
        [typeof error === 'string' ? error : undefined, body.error_description].filter(Boolean).join(': ') ||
        `HTTP ${res.status}`;
      const hint = MSIS_HINTS.find(([pattern]) => pattern.test(said))?.[1];
      throw new AdfsTokenError(
        `AD FS refused the token request for deployment.webApi (client ${this.options.clientId}, resource ${this.options.resource}): ${said}${hint ? ` — ${hint}` : ''}`,
      );
    }
    // Masked before anything else can print it.
    this.options.registerSecret(body.access_token);
    const lifetimeMs = Number(body.expires_in ?? 3600) * 1000;
    this.token = {
      value: body.access_token,
      expiresAt: this.now() + (Number.isFinite(lifetimeMs) ? lifetimeMs : 3_600_000),
    };
    this.tokensIssued++;
    return body.access_token;
  }
}
