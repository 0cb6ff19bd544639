// How Azure DevOps names this toolkit's inputs and outputs: the host reads them by these names, and the
// task.json generator writes them.

/** The Azure DevOps task input that names the service connection (the name Microsoft's Azure tasks use). */
export const SERVICE_CONNECTION_INPUT = 'azureSubscription';

/**
 * The Azure DevOps name of an input or output: camelCase of the kebab-case name ("pfx-base64" ->
 * "pfxBase64", "tenant-id" -> "tenantId"). task.json names must match ^[A-Za-z][A-Za-z0-9]*$.
 */
export function azureName(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
