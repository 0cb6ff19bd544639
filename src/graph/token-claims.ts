// Reads the claims of an access token the toolkit holds (never verifies it: Graph does that). Used to
// name the app, the tenant and the application permissions (`roles`) in messages and preflight.

export interface AccessTokenClaims {
  /** App (client) id: `appid` in v1 tokens, `azp` in v2 tokens. */
  appId?: string;
  tenantId?: string;
  audience?: string;
  issuer?: string;
  /** Application permissions granted with admin consent; absent from the token when none are. */
  roles: string[];
  expiresAt?: Date;
}

/** Decodes the payload of a JWT; undefined when the text is not a JWT with a JSON payload. */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const str = (value: unknown) => (typeof value === 'string' && value ? value : undefined);

export function readAccessTokenClaims(token: string): AccessTokenClaims {
  const payload = decodeJwtPayload(token) ?? {};
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
  const exp = typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : undefined;
  const claims: AccessTokenClaims = { roles };
  const appId = str(payload.appid) ?? str(payload.azp);
  if (appId) claims.appId = appId;
  const tenantId = str(payload.tid);
  if (tenantId) claims.tenantId = tenantId;
  const audience = str(payload.aud);
  if (audience) claims.audience = audience;
  const issuer = str(payload.iss);
  if (issuer) claims.issuer = issuer;
  if (exp) claims.expiresAt = exp;
  return claims;
}
