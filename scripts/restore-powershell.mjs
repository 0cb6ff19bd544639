// Runs before `npm start`: the rehearsal runs the Windows phases under PowerShell 7, which comes from
// the dotnet local tool manifest (.config/dotnet-tools.json). Restoring it is quick and idempotent.
// Without dotnet the demo still runs the cloud and D365 phases and says why the Windows ones did not.
import { spawnSync } from 'node:child_process';

const probe = spawnSync('dotnet', ['--version'], { stdio: 'ignore' });
if (probe.error || probe.status !== 0) {
  console.error('d365-exo-sync: no dotnet here, so no PowerShell 7 for the Windows phases of the rehearsal.');
} else {
  const restore = spawnSync('dotnet', ['tool', 'restore'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (restore.status !== 0)
    console.error('d365-exo-sync: "dotnet tool restore" failed; the demo will say what it could not run.');
}
