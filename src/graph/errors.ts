// Errors of the cloud side. A Graph error keeps what support asks for (HTTP status, Graph's error
// code, request-id, client-request-id, date); a 401/403 also names the permission the call needs and
// the roles the token actually carries, so the fix is in the message.
import { describeOperation, rolesNeededText, type GraphOperation } from './permissions.js';

export interface GraphErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
  clientRequestId?: string;
  date?: string;
}

/** Reads Graph's `{error:{code,message,innerError:{request-id,date,client-request-id}}}`; tolerant of other shapes. */
export function parseGraphErrorBody(text: string): GraphErrorBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return {};
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (!error || typeof error !== 'object') return {};
  const e = error as Record<string, unknown>;
  const inner = (e.innerError ?? e.innererror) as Record<string, unknown> | undefined;
  const s = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const body: GraphErrorBody = {};
  const code = s(e.code);
  if (code) body.code = code;
  const message = s(e.message);
  if (message) body.message = message;
  const requestId = s(inner?.['request-id']);
  if (requestId) body.requestId = requestId;
  const clientRequestId = s(inner?.['client-request-id']);
  if (clientRequestId) body.clientRequestId = clientRequestId;
  const date = s(inner?.date);
  if (date) body.date = date;
  return body;
}

export interface GraphErrorDetails extends GraphErrorBody {
  status: number;
  method: string;
  /** Path and query below the Graph root, e.g. /v1.0/servicePrincipals/…; never a token. */
  path: string;
  operation: GraphOperation;
  /** The roles claim of the token used, when known. */
  tokenRoles?: string[];
  appId?: string;
}

export class GraphError extends Error {
  readonly status: number;
  readonly code?: string;
  readonly requestId?: string;
  readonly clientRequestId?: string;
  readonly date?: string;
  readonly method: string;
  readonly path: string;
  readonly operation: GraphOperation;
  readonly tokenRoles?: string[];

  constructor(details: GraphErrorDetails) {
    super(graphErrorMessage(details));
    this.name = 'GraphError';
    this.status = details.status;
    this.method = details.method;
    this.path = details.path;
    this.operation = details.operation;
    if (details.code) this.code = details.code;
    if (details.requestId) this.requestId = details.requestId;
    if (details.clientRequestId) this.clientRequestId = details.clientRequestId;
    if (details.date) this.date = details.date;
    if (details.tokenRoles) this.tokenRoles = details.tokenRoles;
  }

  get isPermissionProblem(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

function graphErrorMessage(d: GraphErrorDetails): string {
  const what = describeOperation(d.operation);
  const head = `Microsoft Graph refused to ${what} (${d.method} ${d.path}): HTTP ${d.status}${d.code ? ` ${d.code}` : ''}${d.message ? `: ${d.message.replace(/\.+$/, '')}` : ''}`;
  const ids = [
    d.requestId && `request-id ${d.requestId}`,
    d.clientRequestId && `client-request-id ${d.clientRequestId}`,
    d.date && `date ${d.date}`,
  ]
    .filter(Boolean)
    .join(', ');
  let fix = '';
  if (d.status === 403) {
    const app = d.appId ? `app ${d.appId}` : 'the app';
    const held = d.tokenRoles
      ? d.tokenRoles.length
        ? d.tokenRoles.join(', ')
        : 'no application permissions at all'
      : 'unknown roles';
    // A 403 has two possible causes, and Graph's answer does not always say which: name both.
    fix =
      ` Two possible causes: (1) a missing application permission: the token of ${app} carries ${held}; this call needs the application permission ${rolesNeededText(d.operation)}` +
      ` with admin consent (Entra ID > App registrations > ${d.appId ?? 'the app'} > API permissions > Microsoft Graph > Application permissions, then grant admin consent);` +
      ` (2) a Conditional Access policy for workload identities, or another tenant policy, blocking this app or this runner's address: check the Entra sign-in logs (service principal sign-ins) for request-id ${d.requestId ?? '(none given)'}${d.code ? ` and Graph's code ${d.code}` : ''}.`;
  } else if (d.status === 401) {
    fix =
      ' The access token was missing, expired or not meant for this Graph endpoint: check tenant.cloud and tenant.endpoints.graph,' +
      ` and that the app holds ${rolesNeededText(d.operation)}.`;
  }
  return `${head}.${fix}${ids ? ` (${ids})` : ''}`;
}

/** Graph answered, but with something that is not the JSON it documents. */
export class GraphResponseError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    detail: string,
    readonly requestId?: string,
  ) {
    super(
      `Microsoft Graph answered ${method} ${path} with HTTP ${status} but ${detail}${requestId ? ` (request-id ${requestId})` : ''}`,
    );
    this.name = 'GraphResponseError';
  }
}

/** Signing in to Entra ID failed: which app, which tenant, which method, and Entra's own words (AADSTS…). */
export class EntraSignInError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EntraSignInError';
  }
}
