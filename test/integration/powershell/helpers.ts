// Shared by the PowerShell integration tests: is pwsh here, a test certificate as the pipeline hands it to
// Windows (src/cert's Windows PFX), the fake Windows server's state file, and a runtime that records everything.
import { generateKeyPairSync, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import forge from 'node-forge';
import { buildWindowsPfx, loadPfx } from '../../../src/cert/index.js';
import { resolvePowerShell, type PowerShellRuntime, type SpawnInfo } from '../../../src/powershell/index.js';
import { FAKE_SERVER_MODULE_PATH } from '@d365-exo-sync/sandbox';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export { FAKE_WINDOWS_MODULE as fakeModule, FAKE_TOOLS as fakeTools } from '@d365-exo-sync/sandbox';

/** Why the suite cannot run here, or undefined when pwsh is available. */
export function pwshUnavailable(): string | undefined {
  try {
    resolvePowerShell();
    return undefined;
  } catch (error) {
    return `PowerShell is not available (${(error as Error).message}); run "dotnet tool restore" first`;
  }
}

/** Options for describe(): skip with the reason, except under CI=true where a missing pwsh must fail. */
export function suiteOptions(): { skip?: string } {
  const reason = pwshUnavailable();
  if (!reason || process.env.CI === 'true') return {};
  return { skip: reason };
}

export interface TestPfx {
  pfx: Buffer;
  password: string;
  thumbprint: string;
  subject: string;
  der: Buffer;
}

/** A self-signed certificate, exported, then rewritten by src/cert as the PFX the install-certificate phase gets. */
export function makeTestPfx(commonName = 'crm.contoso.com', password = 'Pfx-Pa55!word'): TestPfx {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber =
    '0' +
    createHash('sha1')
      .update(commonName + Date.now() + Math.random())
      .digest('hex')
      .slice(0, 15);
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 180 * 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(key, forge.md.sha256.create());
  const p12 = forge.pkcs12.toPkcs12Asn1(key, [cert], password, { algorithm: '3des' });
  const exported = Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
  const loaded = loadPfx(exported, password);
  if (!loaded.pfx) throw new Error(`test PFX did not load: ${JSON.stringify(loaded.problems)}`);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return {
    pfx: buildWindowsPfx(loaded.pfx, password),
    password,
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    subject: `CN=${commonName}`,
    der,
  };
}

/** A fresh fake Windows server for the child processes (they find it through FAKE_WINDOWS_STATE_FILE). */
export function freshFakeServer(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fake-windows-'));
  const file = join(dir, 'state.json');
  process.env.FAKE_WINDOWS_STATE_FILE = file;
  return file;
}

export function readFakeServer(file: string): FakeServer {
  return JSON.parse(readFileSync(file, 'utf8')) as FakeServer;
}

export interface FakeServer {
  store: { thumbprint: string; subject: string; rules: { sid: string }[] }[];
  calls: { name: string; args: Record<string, unknown> }[];
  crm: {
    certificates: { type: string; data: string }[];
    orgSettings: Record<string, Record<string, string>>;
    serverSettings: Record<string, string>;
    oauthClaims: boolean;
  };
  adfs: { clients: { clientId: string; redirectUri: string[] }[]; intranet: string[] };
  webBindings: { certificateHash: string }[];
  [key: string]: unknown;
}

export interface Recorder {
  runtime: PowerShellRuntime;
  lines: { line: string; stream: 'stdout' | 'stderr' }[];
  spawns: SpawnInfo[];
}

/** A runtime on the sandbox's fake Windows server (its module path loads the fakes after the module), recording lines and spawns; mask() marks what it replaced. */
export function recorder(tempRoot: string, secrets: string[] = [], extra: Partial<PowerShellRuntime> = {}): Recorder {
  const lines: Recorder['lines'] = [];
  const spawns: SpawnInfo[] = [];
  const runtime: PowerShellRuntime = {
    modulePath: FAKE_SERVER_MODULE_PATH,
    tempRoot,
    onLine: (line, stream) => lines.push({ line, stream }),
    mask: (text) => secrets.reduce((masked, secret) => masked.split(secret).join('[masked]'), text),
    onSpawn: (info) => spawns.push(info),
    ...extra,
  };
  return { runtime, lines, spawns };
}
