// Loaded with --import by `npm run test:unit`: the unit lane is pure, so a test file in it that starts
// a process or opens a socket fails. Node's test runner starts each test file in a child process of its
// own (NODE_TEST_CONTEXT set); the guard acts only there, so the runner itself can still start them.
import childProcess from 'node:child_process';
import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const violations = [];

function refuse(what) {
  const message =
    `${what} in the unit lane (test/unit must not start processes or open sockets). ` +
    'Move this test to test/integration, or give the code under test a fake.';
  violations.push(message);
  throw new Error(message);
}

if (process.env.NODE_TEST_CONTEXT) {
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    childProcess[name] = () => refuse(`child_process.${name}()`);
  }
  childProcess.ChildProcess.prototype.spawn = () => refuse('ChildProcess#spawn()');
  net.Socket.prototype.connect = () => refuse('a socket connect');
  net.Server.prototype.listen = () => refuse('a server listen');
  dgram.Socket.prototype.bind = () => refuse('a UDP socket bind');
  dgram.Socket.prototype.send = () => refuse('a UDP socket send');
  // Named imports (import { spawn } from 'node:child_process') read the patched functions too.
  syncBuiltinESMExports();

  // A test that catches the error still fails its file: the file exits non-zero and says why.
  process.on('exit', () => {
    if (violations.length === 0) return;
    process.stderr.write(`\nunit-lane guard: ${violations.length} refused\n  ${violations.join('\n  ')}\n`);
    process.exitCode = 1;
  });
}
