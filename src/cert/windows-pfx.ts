// Writes the PFX that the install-certificate phase imports on Windows, so that the key lands in a
// legacy CAPI CSP with KeySpec 1 (AT_KEYEXCHANGE), as D365's .NET Framework code needs (Microsoft:
// "AD FS and certificate KeySpec property information"; "PFXImportCertStore function (wincrypt.h)",
// Remarks, in MicrosoftDocs/sdk-api).
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
//
// Assembled from node-forge parts: toPkcs12Asn1 can neither name the CSP on the key bag alone nor put
// attributes into the PrivateKeyInfo nor encrypt the certificates with 3DES.
import { createHash, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { type Asn1, childrenOf, der, parseDer, toBuffer } from './forge-asn1.js';
import { InputError } from './errors.js';
import { isRsa } from './key-info.js';
import type { LoadedPfx } from './load.js';
import { Oid } from './oids.js';

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
  const localKeyId = createHash('sha1').update(pfx.leaf.raw).digest();
  const friendlyName = options.friendlyName === undefined ? pfx.friendlyName : options.friendlyName;
  const shared = [attribute(Oid.localKeyId, der.octetString(localKeyId))];
  if (friendlyName) shared.push(attribute(Oid.friendlyName, der.bmpString(friendlyName)));

  const certificates = [pfx.leaf, ...((options.includeChain ?? true) ? pfx.chain : [])].map((cert, index) =>
    safeBag(
      Oid.certBag,
      der.sequence(der.oid(Oid.x509Certificate), der.context(0, der.octetString(cert.raw))),
      index === 0 ? shared : [],
    ),
  );

  // PrivateKeyInfo with one attribute, [0] { keyUsage: BIT STRING 0x10 }: openssl's -keyex encoding.
  const privateKeyInfo = parseDer(pfx.privateKey.export({ type: 'pkcs8', format: 'der' }));
  childrenOf(privateKeyInfo, 'PrivateKeyInfo').push(
    der.context(0, attribute(Oid.keyUsage, der.bitString(4, keyExchangeUsage))), // 0x10: the 4 low bits are unused
  );
  const keyBag = safeBag(Oid.pkcs8ShroudedKeyBag, encrypt(privateKeyInfo, password), [
    ...shared,
    attribute(Oid.microsoftCspName, der.bmpString(windowsCspName)),
  ]);

  const authenticatedSafe = der.sequence(encryptedSafe(certificates, password), dataContent(der.sequence(keyBag)));
  return toBuffer(der.sequence(der.integer(3), dataContent(authenticatedSafe), macData(authenticatedSafe, password)));
}

function attribute(oid: string, value: Asn1): Asn1 {
  return der.sequence(der.oid(oid), der.setOf(value));
}

function safeBag(bagId: string, value: Asn1, attributes: Asn1[]): Asn1 {
  return der.sequence(der.oid(bagId), der.context(0, value), ...(attributes.length ? [der.setOf(...attributes)] : []));
}

/** EncryptedPrivateKeyInfo-shaped {algorithm, OCTET STRING}: forge's PKCS#12 PBE-SHA1-3DES over the DER of `value`. */
function encrypt(value: Asn1, password: string): Asn1 {
  return forge.pki.encryptPrivateKeyInfo(value, password, { algorithm: '3des', count: windowsPfxIterations });
}

/** A ContentInfo of type data holding `content` in the clear (its bags may be shrouded themselves). */
function dataContent(content: Asn1): Asn1 {
  return der.sequence(der.oid(Oid.data), der.context(0, der.octetString(toBuffer(content))));
}

/** A ContentInfo of type encryptedData: the SafeContents of `bags`, 3DES-encrypted. */
function encryptedSafe(bags: Asn1[], password: string): Asn1 {
  const [algorithm, encrypted] = childrenOf(encrypt(der.sequence(...bags), password), 'encrypted safe');
  const encryptedContentInfo = der.sequence(
    der.oid(Oid.data),
    algorithm!,
    der.contextPrimitive(0, encrypted!.value as string), // [0] IMPLICIT OCTET STRING
  );
  return der.sequence(der.oid(Oid.encryptedData), der.context(0, der.sequence(der.integer(0), encryptedContentInfo)));
}

/** MacData: HMAC-SHA-1 over the AuthenticatedSafe with a key from the PKCS#12 KDF (UTF-16 password). */
function macData(authenticatedSafe: Asn1, password: string): Asn1 {
  const salt = randomBytes(8).toString('binary');
  const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt), 3, windowsPfxIterations, 20);
  const hmac = forge.hmac.create();
  hmac.start('sha1', key);
  hmac.update(forge.asn1.toDer(authenticatedSafe).getBytes());
  return der.sequence(
    der.sequence(der.sequence(der.oid(Oid.sha1), der.null()), der.octetString(hmac.digest().getBytes())),
    der.octetString(salt),
    der.integer(windowsPfxIterations),
  );
}
