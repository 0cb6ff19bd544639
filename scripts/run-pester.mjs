// Runs the PowerShell side's tests: the Windows PowerShell 5.1 compatibility gate over powershell/ and the Pester
// suite under test/powershell, in pwsh from the dotnet local tool (.config/dotnet-tools.json) with Pester restored
// from NuGet through test/powershell/pester.proj (the machine's configured NuGet source). Prints Pester's counts and
// exits non-zero on any failure. Without dotnet and pwsh it says loudly that the suite did NOT run and exits 0,
// except under CI=true, where that is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const testDir = join(root, 'test', 'powershell');
const project = join(testDir, 'pester.proj');
const suite = join(testDir, 'Invoke-PesterSuite.ps1');
const ci = process.env.CI === 'true';
const env = {
  ...process.env,
  DOTNET_NOLOGO: '1',
  DOTNET_CLI_TELEMETRY_OPTOUT: '1',
  POWERSHELL_TELEMETRY_OPTOUT: '1',
  POWERSHELL_UPDATECHECK: 'Off',
};

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const candidate of [join(dir, name), join(dir, `${name}.exe`)]) {
      try {
        if (dir && statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function run(command, args, options = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: root,
    env,
    stdio: options.capture ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  return { status: result.status ?? 1, error: result.error, stdout: result.stdout ?? '', seconds };
}

function notRun(reason) {
  const banner = '!'.repeat(78);
  console.error(
    `\n${banner}\n!! The PowerShell suite did NOT run: ${reason}\n!! Install the .NET SDK (then "dotnet tool restore") to run the Pester tests and the Windows PowerShell 5.1 gate.\n${banner}\n`,
  );
  process.exit(ci ? 1 : 0);
}

const pesterVersion = /Include="Pester"\s+Version="\[?([0-9.]+)\]?"/.exec(readFileSync(project, 'utf8'))?.[1];
if (!pesterVersion) {
  console.error(`Cannot read the Pester version from ${project}`);
  process.exit(1);
}
const pesterManifest = join(testDir, 'obj', 'packages', 'pester', pesterVersion, 'tools', 'Pester.psd1');
// Every PackageDownload of pester.proj (Pester and the reference assemblies the 5.1 check reads) must be restored.
const downloads = [
  ...readFileSync(project, 'utf8').matchAll(/<PackageDownload\s+Include="([^"]+)"\s+Version="\[?([0-9.]+)\]?"/g),
].map(([, id, version]) => join(testDir, 'obj', 'packages', id.toLowerCase(), version));
const restored = () => existsSync(pesterManifest) && downloads.every((dir) => existsSync(dir));

const dotnet = onPath('dotnet');
let pwsh;
if (dotnet) {
  const tools = run(dotnet, ['tool', 'restore']);
  if (tools.status !== 0) {
    console.error('"dotnet tool restore" failed');
    process.exit(1);
  }
  console.log(`dotnet tool restore: ${tools.seconds}s`);
  if (!restored()) {
    const restore = run(dotnet, ['restore', project, '--verbosity', 'quiet']);
    if (restore.status !== 0 || !restored()) {
      console.error(
        `Restoring Pester ${pesterVersion} and the reference assemblies (dotnet restore test/powershell/pester.proj) failed`,
      );
      process.exit(1);
    }
    console.log(`Pester ${pesterVersion} and the reference assemblies restored: ${restore.seconds}s`);
  }
  pwsh = [dotnet, ['tool', 'run', 'pwsh', '--']];
} else if (onPath('pwsh')) {
  if (!restored()) notRun(`pwsh is on PATH but dotnet is not, so Pester ${pesterVersion} cannot be restored`);
  pwsh = [onPath('pwsh'), []];
} else {
  notRun('neither dotnet nor pwsh was found on PATH');
}

const [command, prefix] = pwsh;
const tests = run(command, [
  ...prefix,
  '-NoProfile',
  '-NonInteractive',
  '-File',
  suite,
  '-PesterManifest',
  pesterManifest,
]);
console.log(`PowerShell suite (gate + Pester): ${tests.seconds}s`);
if (tests.error) {
  console.error(`Could not start pwsh: ${tests.error.message}`);
  process.exit(1);
}
process.exit(tests.status);
