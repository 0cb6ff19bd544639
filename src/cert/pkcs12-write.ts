// Encodes PKCS#12 structures (RFC 7292) in DER: bags with their attributes, the two kinds of safes,
// and the password-integrity wrapper with an HMAC-SHA-1 MAC.
import { createHmac, randomBytes } from 'node:crypto';
import { der } from './asn1.js';
import { Oid } from './oids.js';
import { pkcs12TripleDesEncrypt } from './pbe.js';
import { type PfxPassword, KdfPurpose, pkcs12Kdf } from './pkcs12-kdf.js';

/** One bag attribute: its OID and its already-encoded values. */
export interface BagAttribute {
  oid: string;
  values: Buffer[];
}

export function attribute(oid: string, ...values: Buffer[]): BagAttribute {
  return { oid, values };
}

function encodeAttributes(attributes: readonly BagAttribute[]): Buffer {
  return der.setOf(...attributes.map((a) => der.sequence(der.oid(a.oid), der.setOf(...a.values))));
}

function safeBag(bagId: string, value: Buffer, attributes: readonly BagAttribute[]): Buffer {
  const parts = [der.oid(bagId), der.explicit(0, value)];
  if (attributes.length > 0) parts.push(encodeAttributes(attributes));
  return der.sequence(...parts);
}

export function certificateBag(certificateDer: Buffer, attributes: readonly BagAttribute[]): Buffer {
  const certBag = der.sequence(der.oid(Oid.x509Certificate), der.explicit(0, der.octetString(certificateDer)));
  return safeBag(Oid.certBag, certBag, attributes);
}

/** A pkcs8ShroudedKeyBag: the PrivateKeyInfo encrypted with PKCS#12 3DES. */
export function shroudedKeyBag(
  privateKeyInfo: Buffer,
  attributes: readonly BagAttribute[],
  password: PfxPassword,
  iterations: number,
): Buffer {
  const { algorithm, encrypted } = pkcs12TripleDesEncrypt(privateKeyInfo, password, iterations);
  return safeBag(Oid.pkcs8ShroudedKeyBag, der.sequence(algorithm, der.octetString(encrypted)), attributes);
}

/** A ContentInfo of type data holding SafeContents in the clear (its bags may be shrouded themselves). */
export function plainSafe(bags: readonly Buffer[]): Buffer {
  return der.sequence(der.oid(Oid.data), der.explicit(0, der.octetString(der.sequence(...bags))));
}

/** A ContentInfo of type encryptedData holding SafeContents encrypted with PKCS#12 3DES. */
export function encryptedSafe(bags: readonly Buffer[], password: PfxPassword, iterations: number): Buffer {
  const { algorithm, encrypted } = pkcs12TripleDesEncrypt(der.sequence(...bags), password, iterations);
  const encryptedContentInfo = der.sequence(der.oid(Oid.data), algorithm, der.implicitPrimitive(0, encrypted));
  return der.sequence(der.oid(Oid.encryptedData), der.explicit(0, der.sequence(der.integer(0), encryptedContentInfo)));
}

/** The PFX: version 3, the AuthenticatedSafe of `safes`, and an HMAC-SHA-1 MAC over it. */
export function passwordProtectedPfx(safes: readonly Buffer[], password: PfxPassword, iterations: number): Buffer {
  const authenticatedSafe = der.sequence(...safes);
  const salt = randomBytes(8);
  const macKey = pkcs12Kdf('sha1', password.bmp, salt, KdfPurpose.macKey, iterations, 20);
  const mac = createHmac('sha1', macKey).update(authenticatedSafe).digest();
  const macData = der.sequence(
    der.sequence(der.sequence(der.oid(Oid.sha1), der.null()), der.octetString(mac)),
    der.octetString(salt),
    der.integer(iterations),
  );
  const authSafe = der.sequence(der.oid(Oid.data), der.explicit(0, der.octetString(authenticatedSafe)));
  return der.sequence(der.integer(3), authSafe, macData);
}
