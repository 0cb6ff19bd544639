// One access token per scope for the whole run: the token is kept until five minutes before it expires,
// and callers that ask at the same time share one request. Without it every Graph call signed in again,
// and with workload identity each sign-in also asked GitHub or Azure DevOps for a new OIDC token.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/** A token is renewed this long before it expires (a long Graph call must not outlive it). */
export const TOKEN_RENEWAL_MARGIN_MS = 5 * 60_000;

export class CachingCredential implements TokenCredential {
  private readonly tokens = new Map<string, AccessToken>();
  private readonly pending = new Map<string, Promise<AccessToken | null>>();
  /** Tokens fetched from the inner credential (for the run record and tests). */
  fetched = 0;

  constructor(
    private readonly inner: TokenCredential,
    private readonly now: () => number = Date.now,
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    const key = [scopes].flat().sort().join(' ');
    const cached = this.tokens.get(key);
    if (cached && this.now() < cached.expiresOnTimestamp - TOKEN_RENEWAL_MARGIN_MS) return cached;
    let request = this.pending.get(key);
    if (!request) {
      request = this.inner
        .getToken(scopes, options)
        .then((token) => {
          this.fetched++;
          if (token) this.tokens.set(key, token);
          return token;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, request);
    }
    return request;
  }

  /** Forgets the tokens (after Graph refused one as expired or revoked). */
  clear(): void {
    this.tokens.clear();
  }
}
