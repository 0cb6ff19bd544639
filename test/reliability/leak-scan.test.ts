// Every phase through every front end (the CLI, the GitHub Action bundle as the runner runs it, the Azure DevOps
// task from the unpacked .vsix as the agent runs it), each against its own world (emulators in this process, the
// fake Windows server, real pwsh), with recognisable secrets: the PFX password, the PFX itself, the Entra client
// secret, the D365 service account password, and the tokens the emulators issue during the runs. Then everything the
// runs left is scanned for each secret in every form it could take on the way: as is, base64 (standard, unpadded,
// URL-safe), each line of a PEM or MIME rendering (64 and 76 columns), URL-encoded (%XX and +), JSON-escaped;
// for the PFX also its bytes, and the private key's PEM lines. What is scanned: stdout and stderr (without the
// ::add-mask:: / task.setsecret lines, which the runner and agent consume), the job summary, the outputs, the run
// records and every file in the temp folders (the runner's, the agent's, and TMPDIR, where the PowerShell
// workspaces go). Expected hits: zero. The forms are computed here, not taken from src/secrets, so a form the
// masker forgot would show.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PHASES } from '../../src/phases/registry.js';
import { azureName } from '../../src/pipeline/inputs.js';
import { makeLeaf, makePfx } from '../support/certs.js';
import { builtPackages, type BuiltPackages } from '../packaging/support/packages.js';
import { cleanupRuns, runAction, runTaskProcess, type Workspace } from '../packaging/support/runners.js';
import { actionOnFakeServers, taskOnFakeServers } from '../support/fake-server-cli.js';
import {
  ADFS_SERVER,
  CLIENT_SECRET,
  D365_PASSWORD,
  PFX_PASSWORD,
  PFX_PASSWORD_ENV,
  renewalCertificate,
  startWorld,
  type World,
} from './support/world.js';

const DAY = 86_400_000;

/** Every form of a text secret this scan looks for. */
export function textForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const b64 = bytes.toString('base64');
  return [
    secret,
    b64,
    b64.replace(/=+$/, ''),
    bytes.toString('base64url'),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    new URLSearchParams({ x: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
  ];
}

/** Every form of binary key material: base64 whole and in lines (PEM 64, MIME 76), URL-safe. */
export function binaryForms(bytes: Buffer): string[] {
  const b64 = bytes.toString('base64');
  const lines = [64, 76].flatMap((width) => b64.match(new RegExp(`.{${width}}`, 'g')) ?? []);
  return [b64, bytes.toString('base64url'), ...lines];
}

interface Hit {
  where: string;
  secret: string;
}

/** Files under dir (recursively) as bytes. */
function filesUnder(dir: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.set(join(entry.parentPath, entry.name), readFileSync(join(entry.parentPath, entry.name)));
  }
  return found;
}

class Scanner {
  readonly hits: Hit[] = [];
  scanned = 0;
  files = 0;
  constructor(
    private readonly secrets: () => Map<string, string[]>,
    private readonly binary: Buffer[],
  ) {}

  text(where: string, text: string): void {
    this.scanned++;
    for (const [name, forms] of this.secrets()) {
      if (forms.some((form) => form.length >= 8 && text.includes(form))) this.hits.push({ where, secret: name });
    }
  }

  folder(label: string, dir: string): void {
    for (const [path, bytes] of filesUnder(dir)) {
      const where = `${label}/${relative(dir, path)}`;
      this.files++;
      this.text(where, bytes.toString('utf8'));
      this.text(`${where} (as UTF-16)`, bytes.toString('utf16le'));
      if (this.binary.some((b) => bytes.includes(b))) this.hits.push({ where, secret: 'the PFX bytes' });
    }
  }
}

interface FrontEndRun {
  code: number | null;
  texts: Record<string, string>;
  folders: Record<string, string>;
}

const FRONT_ENDS = ['CLI', 'GitHub Action', 'Azure DevOps task'] as const;
type FrontEnd = (typeof FRONT_ENDS)[number];

describe('leak scan: every phase through every front end writes no secret in any form', { concurrency: true }, () => {
  let built: BuiltPackages;
  const worlds = new Map<FrontEnd, World>();
  const scratch = mkdtempSync(join(tmpdir(), 'd365-reliability-leaks-'));
  const previous = makeLeaf({
    keySlot: 'reliability-renewal',
    notBefore: new Date(Date.now() - 100 * DAY),
    notAfter: new Date(Date.now() + 60 * DAY),
  });
  const previousPfx = makePfx(previous, { password: PFX_PASSWORD, encoding: 'forge-3des' });
  const savedTmp = process.env.TMPDIR;

  before(async () => {
    built = await builtPackages();
    for (const frontEnd of FRONT_ENDS) {
      const world = await startWorld();
      // A key this toolkit added for the previous certificate: retire-previous has something to remove (and log).
      const file = join(world.dir, 'previous.pfx');
      writeFileSync(file, previousPfx);
      const seeded = await world.cli([
        'run',
        '--config',
        world.configFile,
        '--phase',
        'register-entra',
        '--pfx',
        file,
        '--password-env',
        PFX_PASSWORD_ENV,
      ]);
      assert.equal(seeded.code, 0, seeded.stdout + seeded.stderr);
      worlds.set(frontEnd, world);
    }
  });
  after(async () => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    for (const world of worlds.values()) await world.close();
    cleanupRuns();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The phase's own inputs for this world (kebab-case names). */
  const inputsFor = (phaseId: string, world: World): Record<string, string> =>
    ({
      'configure-adfs': { server: ADFS_SERVER, 'organization-id': world.d365.state.organizationId },
      'retire-previous': { verified: 'true' },
    })[phaseId] ?? {};

  function workspace(world: World): Workspace {
    return {
      dir: world.dir,
      config: 'd365-exo-sync.yml',
      pfx: world.pfx,
      pfxBase64: world.pfxBase64,
      thumbprint: world.cert.thumbprint,
      env: Object.fromEntries(Object.entries(world.env).filter((e): e is [string, string] => e[1] !== undefined)),
      otherSecrets: [CLIENT_SECRET, D365_PASSWORD],
      remove: () => undefined,
    };
  }

  async function runThrough(frontEnd: FrontEnd, phaseId: string, world: World): Promise<FrontEndRun> {
    const temp = mkdtempSync(join(scratch, `${frontEnd.replace(/\W+/g, '-')}-${phaseId}-tmp-`));
    const own = inputsFor(phaseId, world);
    if (frontEnd === 'CLI') {
      const records = mkdtempSync(join(scratch, `cli-${phaseId}-records-`));
      process.env.TMPDIR = temp;
      const run = await world.cli(
        [
          'run',
          '--config',
          world.configFile,
          '--phase',
          phaseId,
          '--pfx-base64-env',
          'RELIABILITY_PFX_BASE64',
          '--password-env',
          PFX_PASSWORD_ENV,
          '--record-dir',
          records,
          ...Object.entries(own).flatMap(([name, value]) => ['--set', `${name}=${value}`]),
        ],
        { TMPDIR: temp },
      );
      process.env.TMPDIR = savedTmp ?? tmpdir();
      return { code: run.code, texts: { stdout: run.stdout, stderr: run.stderr }, folders: { records, TMPDIR: temp } };
    }
    const common = {
      config: 'd365-exo-sync.yml',
      mode: 'apply',
      'pfx-base64': world.pfxBase64,
      'pfx-password': PFX_PASSWORD,
    };
    if (frontEnd === 'GitHub Action') {
      const run = await runAction(
        actionOnFakeServers(join(built.root, 'actions', phaseId)),
        workspace(world),
        { ...common, ...own },
        { TMPDIR: temp },
      );
      return {
        code: run.code,
        texts: { log: run.log, stderr: run.stderr, summary: run.summary, outputs: JSON.stringify(run.outputs) },
        folders: { RUNNER_TEMP: run.temp, TMPDIR: temp },
      };
    }
    const inputs = Object.fromEntries(
      Object.entries({ ...common, ...own }).map(([name, value]) => [azureName(name), value]),
    );
    const ws = workspace(world);
    const run = await runTaskProcess(
      taskOnFakeServers(join(built.unpacked, phaseId)),
      { ...ws, env: { ...ws.env, TMPDIR: temp } },
      inputs,
    );
    return {
      code: run.code,
      texts: {
        log: run.log,
        stderr: run.stderr,
        summary: run.summary,
        outputs: JSON.stringify(run.outputs),
        errors: run.errors.join('\n'),
      },
      folders: { 'agent temp': run.temp, TMPDIR: temp },
    };
  }

  it('the scan finds a secret in every form it looks for, in text and in files (UTF-8 and UTF-16)', () => {
    const { pfx } = renewalCertificate();
    const secret = 'Pa55 word/with+odd&chars=%~"quoted"';
    const forms = [...textForms(secret), ...binaryForms(pfx)];
    for (const [index, form] of forms.entries()) {
      const scanner = new Scanner(() => new Map([['the secret', [...textForms(secret), ...binaryForms(pfx)]]]), [pfx]);
      scanner.text('a log line', `before ${form} after`);
      const dir = mkdtempSync(join(scratch, 'self-test-'));
      writeFileSync(join(dir, 'utf16.txt'), Buffer.from(`x${form}y`, 'utf16le'));
      scanner.folder('a folder', dir);
      assert.equal(scanner.hits.length, 2, `form ${index} (${form.slice(0, 12)}…) was missed`);
    }
    const binary = new Scanner(() => new Map(), [pfx]);
    const dir = mkdtempSync(join(scratch, 'self-test-binary-'));
    writeFileSync(join(dir, 'left.pfx'), Buffer.concat([Buffer.from('header'), pfx]));
    binary.folder('a folder', dir);
    assert.deepEqual(binary.hits, [{ where: 'a folder/left.pfx', secret: 'the PFX bytes' }]);
  });

  for (const frontEnd of FRONT_ENDS) {
    it(`${frontEnd}: every phase in renewal order, then the scan: zero hits`, async () => {
      const world = worlds.get(frontEnd)!;
      const { cert, pfx } = renewalCertificate();
      const keyLines = cert.privateKeyPem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
      // Tokens are read when the scan runs: the emulators issue them during the phases.
      const secrets = () =>
        new Map<string, string[]>([
          ['the PFX password', textForms(PFX_PASSWORD)],
          ['the PFX', [...binaryForms(pfx), ...binaryForms(previousPfx)]],
          ['the private key', keyLines],
          ['the Entra client secret', textForms(CLIENT_SECRET)],
          ['the D365 password', textForms(D365_PASSWORD)],
          ...world
            .secrets()
            .filter((s) => ![PFX_PASSWORD, CLIENT_SECRET, D365_PASSWORD, world.pfxBase64].includes(s))
            .map((token, i): [string, string[]] => [`issued token ${i + 1}`, textForms(token)]),
        ]);
      const scanner = new Scanner(secrets, [pfx, previousPfx]);
      const statuses: string[] = [];
      for (const phase of PHASES) {
        const run = await runThrough(frontEnd, phase.id, world);
        statuses.push(`${phase.id}=${run.code}`);
        assert.equal(run.code, 0, `${frontEnd} ${phase.id} failed:\n${Object.values(run.texts).join('\n')}`);
        for (const [name, text] of Object.entries(run.texts)) scanner.text(`${phase.id} ${name}`, text);
        for (const [name, dir] of Object.entries(run.folders)) scanner.folder(`${phase.id} ${name}`, dir);
      }
      assert.ok(world.secrets().length > 4, 'no token was issued: the phases did not sign in');
      // At least the output of each run and its record (the CLI's --record-dir, the runner's and agent's temp folder).
      assert.ok(scanner.files >= PHASES.length, `only ${scanner.files} files scanned`);
      assert.ok(scanner.scanned >= PHASES.length * 3, `only ${scanner.scanned} texts scanned`);
      assert.deepEqual(scanner.hits, [], statuses.join(' '));
    });
  }
});
