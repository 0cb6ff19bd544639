// verify's Entra ID findings from the service principal read, pure (no Graph call, no clock read): the current
// certificate is a Verify key that is valid now, and no service principal name register-entra adds is missing.
import { keysForCertificate, keyState, type KeyCredential } from '../../graph/key-credentials.js';
import { summaries } from './common.js';
import { diffServicePrincipalNames, type RegisterEntraWanted } from './register-diff.js';

export interface EntraFinding {
  status: 'unchanged' | 'failed';
  after: unknown;
  error?: string;
}

export function evaluateCurrentKey(keys: KeyCredential[], thumbprint: string, now: Date): EntraFinding {
  const held = keysForCertificate(keys, thumbprint);
  const valid = held.some((k) => keyState(k, now) === 'valid');
  return {
    status: valid ? 'unchanged' : 'failed',
    after: summaries(held, now),
    ...(valid
      ? {}
      : {
          error: held.length
            ? `the key of ${thumbprint} is not valid now (${held.map((k) => `${k.startDateTime} – ${k.endDateTime}`).join(', ')})`
            : `${thumbprint} is not among the key credentials: run register-entra`,
        }),
  };
}

export function evaluateServicePrincipalNames(
  current: string[],
  wanted: Pick<RegisterEntraWanted, 'appId' | 'rootDomain' | 'ensureDomainSpn'>,
): EntraFinding {
  const missing = diffServicePrincipalNames(current, wanted).added;
  return {
    status: missing.length ? 'failed' : 'unchanged',
    after: current,
    ...(missing.length ? { error: `missing ${missing.join(', ')}: run register-entra` } : {}),
  };
}
