// The D365 Web API emulator and the transport that reaches it with the Windows-auth stand-in (the
// sandbox has no domain: Authorization: Negotiate <the emulator's token> plays the runner's identity).
import { HttpsTransport, staticAuth, type RetryPolicy } from '../../../src/index.js';
import type { D365Emulator } from './emulator.js';

export { startD365Emulator } from './emulator.js';
export type {
  D365Counters,
  D365Emulator,
  D365EmulatorOptions,
  FaultSpec,
  FailurePreset,
  FailureSpec,
  MailboxSeed,
  ProfileSeed,
  TestAndEnableOptions,
  WriteFailure,
} from './emulator.js';

/** An HTTPS transport that authenticates to the emulator as the runner's Windows identity would. */
export function sandboxWindowsTransport(
  emulator: Pick<D365Emulator, 'negotiateToken' | 'caPem'>,
  options: { timeoutMs?: number; retry?: Partial<RetryPolicy> } = {},
): HttpsTransport {
  return new HttpsTransport({
    auth: staticAuth('windows-stand-in', `Negotiate ${emulator.negotiateToken}`),
    timeoutMs: options.timeoutMs ?? 30_000,
    ca: emulator.caPem,
    retry: options.retry,
  });
}
