// The test certificate factory itself: other suites (emulators over HTTPS, CLI, PowerShell) rely on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { openssl } from '../../support/cert-openssl.js';
import { makeChain, makeLeaf, makeScratchDir } from '../../support/certs.js';

const { root, intermediate, leaf } = makeChain({
  commonName: 'localhost',
  dnsNames: ['localhost'],
  ipAddresses: ['127.0.0.1', '::1'],
});

test('a factory chain verifies with openssl, purpose sslserver', () => {
  const scratch = makeScratchDir();
  try {
    const files = {
      root: join(scratch.path, 'root.pem'),
      chain: join(scratch.path, 'chain.pem'),
      leaf: join(scratch.path, 'leaf.pem'),
    };
    writeFileSync(files.root, root.pem);
    writeFileSync(files.chain, intermediate.pem);
    writeFileSync(files.leaf, leaf.pem);
    const out = openssl([
      'verify',
      '-purpose',
      'sslserver',
      '-CAfile',
      files.root,
      '-untrusted',
      files.chain,
      files.leaf,
    ]);
    assert.match(out.toString(), /: OK/);
  } finally {
    scratch.remove();
  }
});

test('a factory leaf serves TLS on loopback to a client that trusts only the test root', async () => {
  const server = createServer({ cert: leaf.pem + intermediate.pem, key: leaf.privateKeyPem }, (socket) =>
    socket.end('hello'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: root.pem });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    const [data] = (await once(socket, 'data')) as [Buffer];
    assert.equal(data.toString(), 'hello');
    socket.destroy();
  } finally {
    server.close();
  }
});

test('certificates get the requested properties', () => {
  const now = Date.now();
  const notAfter = new Date(Math.floor(now / 1000) * 1000 + 5 * 86_400_000);
  const ec = makeLeaf({ keyType: 'ec', keySlot: 'factory-ec', signatureHash: 'sha1', notAfter, extendedKeyUsage: [] });
  assert.equal(ec.x509.publicKey.asymmetricKeyType, 'ec');
  assert.equal(new Date(ec.x509.validTo).getTime(), notAfter.getTime());
  assert.equal(ec.x509.keyUsage, undefined);
  assert.equal(ec.x509.checkIssued(ec.x509), false, 'a leaf without keyCertSign');
  assert.ok(ec.x509.verify(ec.x509.publicKey), 'self-signed');
  assert.match(openssl(['x509', '-noout', '-text'], { input: Buffer.from(ec.pem) }).toString(), /ecdsa-with-SHA1/);
  assert.equal(leaf.x509.ca, false);
  assert.equal(intermediate.x509.ca, true);
  assert.ok(leaf.x509.checkIssued(intermediate.x509) && leaf.x509.verify(intermediate.x509.publicKey));
  assert.equal(leaf.x509.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.match(leaf.thumbprint, /^[0-9A-F]{40}$/);
});
