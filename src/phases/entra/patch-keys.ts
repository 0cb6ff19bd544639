// Writing the keyCredentials collection. PATCH replaces the whole collection, so every key to keep is resent.
// Microsoft's own scripts disagree on how: ConfigureCrmServerSideSync.ps1 (microsoft/PowerApps-Samples) resends
// existing keys by keyId without key and displayName, CSS-Exchange's Remove-CertificateFromAzureServicePrincipal.ps1
// resends key, type and usage without keyId. The keyId form goes first; when Graph answers 400 to it, the keys
// are read with their certificates (single-object $select=keyCredentials) and sent once more in the other form.
// Which form worked is returned, for the run record; read-backs compare by certificate after the key-bytes form,
// because Graph gives the resent keys new keyIds.
import type { Logger } from '../../hosts/host.js';
import { GraphError } from '../../graph/errors.js';
import {
  keyThumbprint,
  resendWithKeyBytes,
  type KeyCredential,
  type KeyCredentialPayload,
  type ResentKeyCredential,
} from '../../graph/key-credentials.js';
import type { EntraServices } from '../../graph/entra-service.js';

export type ResendForm = 'keyId' | 'key-bytes';

const isResent = (entry: KeyCredentialPayload): entry is ResentKeyCredential => 'keyId' in entry;

export async function patchKeyCredentials(
  entra: EntraServices,
  servicePrincipalId: string,
  payload: KeyCredentialPayload[],
  log: Logger,
): Promise<{ form: ResendForm }> {
  try {
    await entra.graph.updateServicePrincipal(servicePrincipalId, { keyCredentials: payload });
    return { form: 'keyId' };
  } catch (error) {
    const resent = payload.filter(isResent);
    if (!(error instanceof GraphError) || error.status !== 400 || resent.length === 0) throw error;
    log.warn(
      `Entra ID: Graph refused the existing keys resent by keyId (${error.message}); sending them once more with their certificates (key, type, usage, dates; no keyId or displayName)`,
    );
    const current = new Map(
      (await entra.graph.getKeyCredentials(servicePrincipalId)).map((key) => [key.keyId.toLowerCase(), key]),
    );
    const again = resent.map((entry) => {
      const key = current.get(entry.keyId.toLowerCase());
      if (!key?.key)
        throw new Error(
          `${error.message} — and key ${entry.keyId} could not be read with its certificate to send it the other way`,
        );
      return resendWithKeyBytes(key);
    });
    try {
      await entra.graph.updateServicePrincipal(servicePrincipalId, {
        keyCredentials: [...again, ...payload.filter((entry) => !isResent(entry))],
      });
    } catch (second) {
      throw new Error(
        `Graph refused both ways of resending the existing keys. By keyId: ${error.message} With their certificates: ${second instanceof Error ? second.message : String(second)}`,
        { cause: second },
      );
    }
    return { form: 'key-bytes' };
  }
}

/** Whether every one of `expected` is among `keys`: by keyId after the keyId form, by certificate after the other. */
export function keysPresent(keys: KeyCredential[], expected: KeyCredential[], form: ResendForm): boolean {
  if (form === 'keyId') return expected.every((e) => keys.some((k) => k.keyId.toLowerCase() === e.keyId.toLowerCase()));
  return expected.every((e) => {
    const print = keyThumbprint(e).thumbprint;
    return print ? keys.some((k) => keyThumbprint(k).thumbprint === print) : true;
  });
}
