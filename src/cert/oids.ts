// Object identifiers this module names itself, and the names the report shows (OpenSSL's spelling).

export const Oid = {
  // PKCS#7 content types
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  // PKCS#12 bags and bag attributes
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  microsoftCspName: '1.3.6.1.4.1.311.17.1',
  /** szOID_KEY_USAGE, used as a PKCS#8 attribute: tells the Windows importer the KeySpec. */
  keyUsage: '2.5.29.15',
  // password-based encryption and MAC
  pbes2: '1.2.840.113549.1.5.13',
  /** pkcs-12PbeIds: pbeWithSHAAnd3-KeyTripleDES-CBC is ...1.3, pbeWithSHAAnd40BitRC2-CBC ...1.6. */
  pkcs12PbePrefix: '1.2.840.113549.1.12.1.',
  pbmac1: '1.2.840.113549.1.5.14',
  sha1: '1.3.14.3.2.26',
  // keys, signatures, extensions
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** Extended key usage names as OpenSSL prints them. */
export const extendedKeyUsageNames: Readonly<Record<string, string>> = {
  [Oid.serverAuth]: 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

/** Signature algorithm OID -> [OpenSSL's name, digest] (digest null: intrinsic or given by parameters). */
export const signatureAlgorithms: Readonly<Record<string, readonly [string, string | null]>> = {
  '1.2.840.113549.1.1.2': ['md2WithRSAEncryption', 'md2'],
  '1.2.840.113549.1.1.4': ['md5WithRSAEncryption', 'md5'],
  '1.2.840.113549.1.1.5': ['sha1WithRSAEncryption', 'sha1'],
  '1.2.840.113549.1.1.14': ['sha224WithRSAEncryption', 'sha224'],
  '1.2.840.113549.1.1.11': ['sha256WithRSAEncryption', 'sha256'],
  '1.2.840.113549.1.1.12': ['sha384WithRSAEncryption', 'sha384'],
  '1.2.840.113549.1.1.13': ['sha512WithRSAEncryption', 'sha512'],
  [Oid.rsassaPss]: ['rsassaPss', null],
  '1.2.840.10045.4.1': ['ecdsa-with-SHA1', 'sha1'],
  '1.2.840.10045.4.3.1': ['ecdsa-with-SHA224', 'sha224'],
  '1.2.840.10045.4.3.2': ['ecdsa-with-SHA256', 'sha256'],
  '1.2.840.10045.4.3.3': ['ecdsa-with-SHA384', 'sha384'],
  '1.2.840.10045.4.3.4': ['ecdsa-with-SHA512', 'sha512'],
  '1.2.840.10040.4.3': ['dsaWithSHA1', 'sha1'],
  '2.16.840.1.101.3.4.3.2': ['dsa_with_SHA256', 'sha256'],
  '1.3.101.112': ['ED25519', null],
  '1.3.101.113': ['ED448', null],
};

export const digestNames: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.5': 'md5',
  [Oid.sha1]: 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
