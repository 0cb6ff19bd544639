// Object identifiers used by PKCS#12, PKCS#8, PKCS#5 and X.509, with the names the report shows.

export const Oid = {
  // PKCS#7 content types
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',

  // PKCS#12 bag types
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  crlBag: '1.2.840.113549.1.12.10.1.4',
  secretBag: '1.2.840.113549.1.12.10.1.5',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',

  // bag attributes
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  microsoftCspName: '1.3.6.1.4.1.311.17.1',
  /** szOID_KEY_USAGE, used as a PKCS#8 attribute: tells the Windows importer the KeySpec. */
  keyUsage: '2.5.29.15',

  // PKCS#12 PBE (RFC 7292 appendix C)
  pbeSha1Rc4_128: '1.2.840.113549.1.12.1.1',
  pbeSha1Rc4_40: '1.2.840.113549.1.12.1.2',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1TwoKeyTripleDes: '1.2.840.113549.1.12.1.4',
  pbeSha1Rc2_128: '1.2.840.113549.1.12.1.5',
  pbeSha1Rc2_40: '1.2.840.113549.1.12.1.6',

  // PKCS#5 v2
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
  hmacWithSha1: '1.2.840.113549.2.7',
  hmacWithSha224: '1.2.840.113549.2.8',
  hmacWithSha256: '1.2.840.113549.2.9',
  hmacWithSha384: '1.2.840.113549.2.10',
  hmacWithSha512: '1.2.840.113549.2.11',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  desEde3Cbc: '1.2.840.113549.3.7',

  // digests
  md5: '1.2.840.113549.2.5',
  sha1: '1.3.14.3.2.26',
  sha224: '2.16.840.1.101.3.4.2.4',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',

  // key algorithms
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  ecPublicKey: '1.2.840.10045.2.1',

  // signature algorithms
  md2WithRsa: '1.2.840.113549.1.1.2',
  md5WithRsa: '1.2.840.113549.1.1.4',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  sha224WithRsa: '1.2.840.113549.1.1.14',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha224: '1.2.840.10045.4.3.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  dsaWithSha1: '1.2.840.10040.4.3',
  dsaWithSha256: '2.16.840.1.101.3.4.3.2',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',

  // X.509 extensions
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Extended key usage names as OpenSSL prints them. */
export const extendedKeyUsageNames: Readonly<Record<string, string>> = {
  [Oid.serverAuth]: 'serverAuth',
  [Oid.clientAuth]: 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** Names in OpenSSL's spelling, so the report matches what `openssl x509 -text` prints. */
export const signatureAlgorithmNames: Readonly<Record<string, string>> = {
  [Oid.md2WithRsa]: 'md2WithRSAEncryption',
  [Oid.md5WithRsa]: 'md5WithRSAEncryption',
  [Oid.sha1WithRsa]: 'sha1WithRSAEncryption',
  [Oid.sha224WithRsa]: 'sha224WithRSAEncryption',
  [Oid.sha256WithRsa]: 'sha256WithRSAEncryption',
  [Oid.sha384WithRsa]: 'sha384WithRSAEncryption',
  [Oid.sha512WithRsa]: 'sha512WithRSAEncryption',
  [Oid.rsassaPss]: 'rsassaPss',
  [Oid.ecdsaWithSha1]: 'ecdsa-with-SHA1',
  [Oid.ecdsaWithSha224]: 'ecdsa-with-SHA224',
  [Oid.ecdsaWithSha256]: 'ecdsa-with-SHA256',
  [Oid.ecdsaWithSha384]: 'ecdsa-with-SHA384',
  [Oid.ecdsaWithSha512]: 'ecdsa-with-SHA512',
  [Oid.dsaWithSha1]: 'dsaWithSHA1',
  [Oid.dsaWithSha256]: 'dsa_with_SHA256',
  [Oid.ed25519]: 'ED25519',
  [Oid.ed448]: 'ED448',
};

export const digestNames: Readonly<Record<string, string>> = {
  [Oid.md5]: 'md5',
  [Oid.sha1]: 'sha1',
  [Oid.sha224]: 'sha224',
  [Oid.sha256]: 'sha256',
  [Oid.sha384]: 'sha384',
  [Oid.sha512]: 'sha512',
};
