// retire-previous's decision, made once for plan and apply: which key credentials of the Dynamics CRM service
// principal go, which stay and why, and whether verify has passed for the current certificate (the gate apply
// needs before it removes anything). Pure: no Graph call, no clock read (`now` is passed).
import { planRetire, type KeyCredential, type RetirePlan } from '../../graph/key-credentials.js';
import { normalizeThumbprint } from './common.js';

/** What the run asks for, from the inputs (outputs of earlier phases) and the config. */
export interface RetireWanted {
  /** The current certificate's thumbprint, normalised; its key always stays. */
  thumbprint: string;
  /** verify's output `verified`, as given. */
  verified?: string;
  /** verify's output `verified-thumbprint`, as given. */
  verifiedThumbprint?: string;
  /** retire.expiredKeys: also remove expired keys added by others. */
  expiredKeysOfOthers: boolean;
}

export interface RetireChanges {
  /** Why apply may not remove anything yet (verify has not passed for this certificate), or undefined. */
  gate?: string;
  /** The keys that go and stay, with the reasons; `refused` when nothing may go. */
  retire: RetirePlan;
}

/** Why apply may not remove anything yet, or undefined. Known before anything is read. */
export function verifyGate(wanted: Omit<RetireWanted, 'expiredKeysOfOthers'>): string | undefined {
  const { verified, verifiedThumbprint, thumbprint } = wanted;
  if (verified !== 'true') {
    return `retire-previous removes keys only after a passing verify: pass verified=true (the verify phase's output)${verified ? `; got verified=${verified}` : ''}; nothing was removed`;
  }
  if (verifiedThumbprint && normalizeThumbprint(verifiedThumbprint) !== thumbprint) {
    return `verify passed for ${verifiedThumbprint}, not for the current certificate ${thumbprint}: run verify for it first; nothing was removed`;
  }
  return undefined;
}

export function diffRetirePrevious(keys: KeyCredential[], wanted: RetireWanted, now: Date): RetireChanges {
  const gate = verifyGate(wanted);
  const retire = planRetire(keys, wanted.thumbprint, now, { expiredKeysOfOthers: wanted.expiredKeysOfOthers });
  return { ...(gate ? { gate } : {}), retire };
}
