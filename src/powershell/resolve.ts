// Which PowerShell runs a phase, and where the static module is.
//   Windows: 64-bit Windows PowerShell 5.1 (the Microsoft.Crm.PowerShell snap-in does not load in PowerShell 7);
//            from a 32-bit Node through %SystemRoot%\Sysnative, which is the only way a 32-bit process reaches
//            the 64-bit System32.
//   Elsewhere: pwsh. An explicit path (option, or D365_EXO_SYNC_PWSH), else the dotnet local tool of
//            .config/dotnet-tools.json run directly as `dotnet <pwsh.dll>` (one process, no tool shim), else pwsh
//            on PATH.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PowerShellUnavailableError } from './types.js';

export const ENTRY_SCRIPT = 'Invoke-D365ExoSyncPhase.ps1';
export const PWSH_ENV = 'D365_EXO_SYNC_PWSH';

export interface ResolvedPowerShell {
  /** Executable to spawn. */
  command: string;
  /** Arguments before the PowerShell options (the pwsh.dll for `dotnet`). */
  prefixArgs: string[];
  kind: 'windows-powershell' | 'pwsh';
  /** For logs: where it came from. */
  source: string;
}

export interface ResolveOptions {
  pwshPath?: string;
  platform?: NodeJS.Platform;
  arch?: string;
  env?: NodeJS.ProcessEnv;
  /** Folders searched upwards for .config/dotnet-tools.json (default: the working folder and the package root). */
  searchFrom?: string[];
}

/** The folder of this file, or of the bundle it was bundled into. */
function hereDir(): string {
  // esbuild empties import.meta in the CommonJS bundle of the Azure DevOps task; __dirname is the bundle's folder there.
  const url = (import.meta as { url?: string }).url;
  return url ? dirname(fileURLToPath(url)) : __dirname;
}

/** The folder of this package that holds powershell/ (works from src/ and from the dist/ bundles, ESM and CommonJS). */
export function packageRoot(): string {
  const here = hereDir();
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, 'powershell', ENTRY_SCRIPT))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(here, '..', '..');
    dir = parent;
  }
}

export function defaultModulePath(): string {
  return join(packageRoot(), 'powershell');
}

export function windowsPowerShellPath(env: NodeJS.ProcessEnv, arch: string): string {
  const systemRoot = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows';
  const system = arch === 'ia32' ? 'Sysnative' : 'System32';
  return `${systemRoot}\\${system}\\WindowsPowerShell\\v1.0\\powershell.exe`;
}

function findUp(start: string, relative: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** pwsh.dll of the PowerShell dotnet tool pinned in .config/dotnet-tools.json, when it is restored. */
export function findDotnetToolPwsh(
  searchFrom: string[],
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): string | undefined {
  for (const start of searchFrom) {
    const manifest = findUp(start, join('.config', 'dotnet-tools.json'));
    if (!manifest) continue;
    let version: string | undefined;
    try {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { tools?: Record<string, { version?: string }> };
      const entry = Object.entries(parsed.tools ?? {}).find(([name]) => name.toLowerCase() === 'powershell');
      version = entry?.[1].version;
    } catch {
      continue;
    }
    if (!version) continue;
    const packages = env.NUGET_PACKAGES || join(homedir(), '.nuget', 'packages');
    const tools = join(packages, 'powershell', version.toLowerCase(), 'tools');
    if (!existsSync(tools)) continue;
    for (const framework of readdirSync(tools).sort().reverse()) {
      const dll = join(tools, framework, 'any', platform === 'win32' ? 'win' : 'unix', 'pwsh.dll');
      if (existsSync(dll)) return dll;
    }
  }
  return undefined;
}

function onPath(names: string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? env.Path ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export function resolvePowerShell(options: ResolveOptions = {}): ResolvedPowerShell {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const explicit = options.pwshPath ?? env[PWSH_ENV];
  if (explicit) {
    if (explicit.toLowerCase().endsWith('.dll'))
      return { command: 'dotnet', prefixArgs: [explicit], kind: 'pwsh', source: `explicit ${explicit}` };
    const kind = /(^|[\\/])powershell(\.exe)?$/i.test(explicit) ? 'windows-powershell' : 'pwsh';
    return { command: explicit, prefixArgs: [], kind, source: `explicit ${explicit}` };
  }
  if (platform === 'win32') {
    return {
      command: windowsPowerShellPath(env, arch),
      prefixArgs: [],
      kind: 'windows-powershell',
      source: 'Windows PowerShell 5.1 (64-bit)',
    };
  }
  const dll = findDotnetToolPwsh(options.searchFrom ?? [process.cwd(), packageRoot()], env, platform);
  if (dll && onPath(['dotnet'], env))
    return { command: 'dotnet', prefixArgs: [dll], kind: 'pwsh', source: `dotnet tool ${dll}` };
  const pwsh = onPath(['pwsh'], env);
  if (pwsh) return { command: pwsh, prefixArgs: [], kind: 'pwsh', source: `PATH ${pwsh}` };
  throw new PowerShellUnavailableError(
    `No PowerShell found: set ${PWSH_ENV}, run "dotnet tool restore" (the PowerShell tool of .config/dotnet-tools.json), or put pwsh on PATH`,
  );
}
