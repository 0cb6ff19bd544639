// Minimal JWT signing and checking for the sandbox: RS256 and PS256 (what MSAL signs client
// assertions with), enough to tell a real token of this emulator from a missing, forged, expired or
// misdirected one.
import { constants, createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';

export type JwtAlgorithm = 'RS256' | 'PS256';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  privateKey: KeyObject,
  alg: JwtAlgorithm = 'RS256',
): string {
  const signingInput = `${b64url(JSON.stringify({ ...header, alg, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  const signer = createSign('sha256');
  signer.update(signingInput);
  const signature =
    alg === 'PS256'
      ? signer.sign({
          key: privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        })
      : signer.sign(privateKey);
  return `${signingInput}.${b64url(signature)}`;
}

/** Splits and parses a JWT; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') return undefined;
    return {
      header: header as Record<string, unknown>,
      payload: payload as Record<string, unknown>,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

export function verifyJwtSignature(jwt: DecodedJwt, publicKey: KeyObject | string): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const alg = jwt.header.alg;
  const verifier = createVerify('sha256');
  verifier.update(jwt.signingInput);
  try {
    if (alg === 'RS256') return verifier.verify(key, jwt.signature);
    if (alg === 'PS256') {
      return verifier.verify(
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        jwt.signature,
      );
    }
  } catch {
    return false;
  }
  return false;
}

/** Why the time claims make a token unusable now (with Entra's 5 minutes of clock skew for nbf), or undefined. */
export function timeProblem(
  payload: Record<string, unknown>,
  nowSeconds: number,
  skewSeconds = 300,
): string | undefined {
  const exp = payload.exp;
  const nbf = payload.nbf;
  if (typeof exp !== 'number') return 'no exp claim';
  if (exp <= nowSeconds) return 'expired';
  if (typeof nbf === 'number' && nbf > nowSeconds + skewSeconds) return 'not yet valid';
  return undefined;
}
