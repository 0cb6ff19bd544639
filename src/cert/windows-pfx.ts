// Writes the PFX that the install-certificate phase imports on Windows, so that the key lands in a
// legacy CAPI CSP with KeySpec 1 (AT_KEYEXCHANGE), as D365's .NET Framework code needs
// (../shared/reference/windows-facts.md §1).
//
// PFXImportCertStore takes the provider from the key bag attribute 1.3.6.1.4.1.311.17.1 and the KeySpec
// from a key usage attribute 2.5.29.15 (KEY_ENCIPHERMENT/DATA_ENCIPHERMENT -> AT_KEYEXCHANGE). Windows'
// own exports and `openssl pkcs12 -keyex` put that key usage (0x10) among the attributes of the PKCS#8
// PrivateKeyInfo ("Key Attributes" in `openssl pkcs12 -info`), so it goes there, not among the bag
// attributes. The file is rebuilt from scratch: a KSP name from a CNG export, or any other Microsoft
// attribute of the input, is never carried over.
//
// Encryption: PKCS#12 PBE SHA-1/3DES for certificates and key, HMAC-SHA-1 MAC, 2048 iterations. Windows
// Server 2016 and older (and .NET Framework importers there) cannot read PBES2/AES-256 PFX files; 3DES
// is read by every Windows version. The file only carries the key from the pipeline to the import and
// is protected by the pipeline's PFX password secret.
import { createHash } from 'node:crypto';
import { der, expectSequence, parseAsn1 } from './asn1.js';
import { InputError } from './errors.js';
import { isRsa } from './key-info.js';
import type { LoadedPfx } from './load.js';
import { Oid } from './oids.js';
import { passwordForms } from './pkcs12-kdf.js';
import {
  attribute,
  type BagAttribute,
  certificateBag,
  encryptedSafe,
  passwordProtectedPfx,
  plainSafe,
  shroudedKeyBag,
} from './pkcs12-write.js';

/** The CAPI provider named in the key bag: SHA-256 signing through CAPI needs PROV_RSA_AES. */
export const windowsCspName = 'Microsoft Enhanced RSA and AES Cryptographic Provider';

/** KeyUsage bit string 0x10 (dataEncipherment): openssl's KEY_EX, read by Windows as AT_KEYEXCHANGE. */
export const keyExchangeUsage = 0x10;

export const windowsPfxIterations = 2048;

export interface WindowsPfxOptions {
  /** Friendly name shown in the Windows certificate store; default: the input's, if any. null: none. */
  friendlyName?: string | null;
  /** Include the issuer certificates (default true). */
  includeChain?: boolean;
}

export function buildWindowsPfx(pfx: LoadedPfx, password: string, options: WindowsPfxOptions = {}): Buffer {
  if (!isRsa(pfx.privateKey)) {
    throw new InputError(
      'pfx',
      `has a ${pfx.privateKey.asymmetricKeyType ?? 'non-RSA'} key; a Windows CSP with KeySpec 1 holds RSA keys only.`,
      'Use a certificate with an RSA key of 2048 bits or more.',
    );
  }
  const forms = passwordForms(password);
  const localKeyId = createHash('sha1').update(pfx.leaf.raw).digest();
  const friendlyName = options.friendlyName === undefined ? pfx.friendlyName : options.friendlyName;
  const shared: BagAttribute[] = [attribute(Oid.localKeyId, der.octetString(localKeyId))];
  if (friendlyName) shared.push(attribute(Oid.friendlyName, der.bmpString(friendlyName)));

  const certificates = [certificateBag(pfx.leaf.raw, shared)];
  if (options.includeChain ?? true) certificates.push(...pfx.chain.map((cert) => certificateBag(cert.raw, [])));

  const keyAttributes = [...shared, attribute(Oid.microsoftCspName, der.bmpString(windowsCspName))];
  const privateKeyInfo = withKeyExchangeUsage(pfx.privateKey.export({ type: 'pkcs8', format: 'der' }));
  const keyBag = shroudedKeyBag(privateKeyInfo, keyAttributes, forms, windowsPfxIterations);

  return passwordProtectedPfx(
    [encryptedSafe(certificates, forms, windowsPfxIterations), plainSafe([keyBag])],
    forms,
    windowsPfxIterations,
  );
}

/** PrivateKeyInfo with exactly one attribute: key usage = key exchange (openssl's -keyex encoding). */
function withKeyExchangeUsage(pkcs8: Buffer): Buffer {
  const [version, algorithm, privateKey] = expectSequence(parseAsn1(pkcs8), 'PrivateKeyInfo');
  if (version === undefined || algorithm === undefined || privateKey === undefined) {
    throw new Error('node:crypto exported an incomplete PrivateKeyInfo');
  }
  const keyUsage = der.sequence(
    der.oid(Oid.keyUsage),
    der.setOf(der.bitString(Buffer.from([keyExchangeUsage]), 4)), // 0x10: the 4 low bits are unused
  );
  return der.sequence(version.encoded, algorithm.encoded, privateKey.encoded, der.implicitConstructed(0, keyUsage));
}
