// Names a key's algorithm and size for the report and the RSA checks.
import type { KeyObject } from 'node:crypto';

export interface KeyDescription {
  /** 'RSA', 'RSA-PSS', 'EC', 'Ed25519', 'Ed448', 'DSA', ... */
  algorithm: string;
  /** Modulus length for RSA/DSA, curve size for EC; null when not meaningful or unknown. */
  bits: number | null;
}

const algorithmNames: Readonly<Record<string, string>> = {
  rsa: 'RSA',
  'rsa-pss': 'RSA-PSS',
  ec: 'EC',
  dsa: 'DSA',
  dh: 'DH',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
};

const curveBits: Readonly<Record<string, number>> = {
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  prime192v1: 192,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};

const fixedBits: Readonly<Record<string, number>> = { ed25519: 256, ed448: 456, x25519: 256, x448: 448 };

export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  let bits: number | null = details.modulusLength ?? fixedBits[type] ?? null;
  if (type === 'ec' && details.namedCurve !== undefined) bits = curveBits[details.namedCurve] ?? null;
  return { algorithm: algorithmNames[type] ?? type, bits };
}

/** Plain RSA only: an RSA-PSS-restricted key cannot live in the Windows CSP that D365 needs. */
export function isRsa(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa';
}
