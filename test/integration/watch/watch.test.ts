// watch against a local TLS server with a short-lived certificate and the Entra emulator.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { DYNAMICS_APP_ID } from '../../../src/config/schema.js';
import type { EntraEmulator } from '@d365-exo-sync/sandbox/entra';
import { makeCa, makeLeaf } from '../../support/certs.js';
import { runCli } from '../../support/cli.js';
import {
  CLIENT_SECRET,
  SECRET_ENV,
  daysFromNow,
  sandboxConfig,
  sandboxTls,
  scratch,
  startSandbox,
  testCertificate,
} from '../entra/sandbox.js';

describe('watch', () => {
  const files = scratch();
  const ca = makeCa({ keySlot: 'watch-ca', commonName: 'Watch Test CA' });
  let emulator: EntraEmulator;
  const servers: Server[] = [];
  let env: NodeJS.ProcessEnv;
  let config: string;

  async function serve(daysLeft: number): Promise<string> {
    const leaf = makeLeaf({
      issuer: ca,
      keySlot: 'watch-leaf',
      commonName: 'localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      notAfter: daysFromNow(daysLeft),
    });
    const server = createServer({ cert: leaf.pem, key: leaf.privateKeyPem }, (_req, res) => res.end('ok'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `https://localhost:${(server.address() as AddressInfo).port}/contoso`;
  }

  before(async () => {
    const key = testCertificate('current', { notAfter: daysFromNow(120) });
    emulator = await startSandbox({
      servicePrincipals: [{ appId: DYNAMICS_APP_ID, keyCredentials: [{ certificate: key.cert.der }] }],
    });
    const caFile = files.file('ca.pem', ca.pem + sandboxTls().caPem);
    env = { [SECRET_ENV]: CLIENT_SECRET, D365_EXO_SYNC_EXTRA_CA: caFile };
    config = files.file('config.json', JSON.stringify(sandboxConfig(emulator)));
  });
  after(async () => {
    for (const server of servers) server.close();
    await emulator.close();
    files.remove();
  });

  it('fails when the live TLS certificate has fewer days left than --min-days, and says which', async () => {
    const url = await serve(5);
    const { code, stdout } = await runCli(
      ['watch', '--config', config, '--url', url, '--min-days', '14', '--json'],
      env,
    );
    assert.equal(code, 1);
    const report = JSON.parse(stdout);
    assert.equal(report.certificates[0].ok, true);
    assert.ok(report.certificates[0].daysRemaining >= 4 && report.certificates[0].daysRemaining <= 5);
    assert.match(report.problems.join('\n'), /expires in [45] days/);
    assert.equal(report.keys.length, 1);
    assert.equal(report.keys[0].state, 'valid');
    assert.ok(!stdout.includes(CLIENT_SECRET));
  });

  it('passes when everything has more days left than the threshold', async () => {
    const url = await serve(60);
    const { code, stdout } = await runCli(
      ['watch', '--config', config, '--url', url, '--min-days', '14', '--json'],
      env,
    );
    assert.equal(code, 0, stdout);
    const report = JSON.parse(stdout);
    assert.equal(report.ok, true);
    assert.ok(report.daysRemaining >= 59 && report.daysRemaining <= 60);
  });

  it('the newest Entra key under the threshold fails the check', async () => {
    const url = await serve(200);
    const { code, stdout } = await runCli(['watch', '--config', config, '--url', url, '--min-days', '150'], env);
    assert.equal(code, 1);
    assert.match(stdout, /newest key on the Dynamics CRM service principal expires in 1[12]\d days/);
  });

  it('an untrusted certificate is reported, never accepted', async () => {
    const url = await serve(60);
    const { code, stdout } = await runCli(['watch', '--config', config, '--url', url, '--skip-entra', '--json'], {});
    assert.equal(code, 1);
    const report = JSON.parse(stdout);
    assert.equal(report.certificates[0].ok, false);
    assert.match(report.certificates[0].error, /not trusted|chain|certificate/i);
    assert.equal(report.keys, null);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await runCli(['watch'])).code, 2);
    assert.equal((await runCli(['watch', '--config', config, '--url', 'http://x'])).code, 2);
    assert.equal((await runCli(['watch', '--config', config, '--min-days', 'soon'])).code, 2);
  });
});
