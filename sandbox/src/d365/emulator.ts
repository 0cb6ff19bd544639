// A loopback HTTPS emulator of the parts of the D365 v9 Web API the mailbox phases use, plus an AD FS
// token endpoint: WhoAmI, emailserverprofiles, mailboxes, systemusers, queues, organizations, tracelogs,
// privileges and role checks, $batch with change sets (all or nothing, Content-ID, stop at the first
// error as v9.0 does), paging with Prefer: odata.maxpagesize and opaque $skiptoken links, and Test &
// Enable as an asynchronous job. It checks credentials (bearer tokens it issued, or a Windows-auth
// stand-in), rejects unknown attributes and wrong option values, injects latency and faults, and counts
// requests so tests and benchmarks can read round trips and writes.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { makeSandboxTls, type SandboxTls } from '../tls.js';
import {
  buildBatchResponse,
  parseBatchRequest,
  type BatchResponseItem,
  type PartRequest,
  type PartResponse,
} from './batch-server.js';
import { attributeOfColumn, columnName, ENTITIES, type EntityMeta } from './metadata.js';
import { evaluateFilter, ODataQueryError, parseFilter, type FilterNode } from './odata-filter.js';
import { D365State, EmulatorHttpError, Transaction, type StateOptions } from './state.js';

export type { MailboxSeed, ProfileSeed, TestAndEnableOptions, WriteFailure } from './state.js';
export type { FailurePreset, FailureSpec } from './failures.js';

export interface FaultSpec {
  /** status: answer with `status`; reset: drop the connection; slow: answer late; malformed: cut the answer off. */
  kind: 'status' | 'reset' | 'slow' | 'malformed';
  status?: number;
  retryAfterSeconds?: number;
  /** Which requests: by method, and a substring or pattern of the path after /api/data/v9.x/ ("$batch", "mailboxes"). */
  match?: { method?: string; path?: string | RegExp };
  /** How many matching requests it hits (default 1). */
  times?: number;
  /** Let this many matching requests through first. */
  skip?: number;
  delayMs?: number;
  /** reset/slow/malformed: process the request first, so the change is made and only the answer is lost. */
  afterProcessing?: boolean;
}

export interface D365EmulatorOptions extends Partial<Omit<StateOptions, 'organization'>> {
  tls?: SandboxTls;
  /** Organization unique name; the URL is https://127.0.0.1:<port>/<organization>. */
  organization?: string;
  /** The URL D365 believes it has (in @odata.nextLink, OData-EntityId); default: the real one. */
  publicUrl?: string;
  auth?: {
    /** Which credentials are accepted (default both). */
    mode?: 'both' | 'negotiate' | 'bearer';
    /** The Windows-auth stand-in: Authorization: Negotiate <token>. */
    negotiateToken?: string;
    clientId?: string;
    resource?: string;
    users?: Array<{ username: string; password: string }>;
    tokenLifetimeSeconds?: number;
  };
  latencyMs?: number;
  faults?: FaultSpec[];
  /** Most operations one $batch may carry (v9.0 documents 100). */
  batchLimit?: number;
  /**
   * IIS request filtering's maxQueryString (and ASP.NET's maxQueryStringLength), 2,048 bytes by default: a longer
   * query string is answered 404.15 by IIS before D365 sees it.
   */
  maxQueryStringBytes?: number;
  /** RetrieveUserPrivileges also returns PrivilegeName (later versions do; v9.0 does not). */
  privilegeNamesInResponse?: boolean;
}

export interface D365Counters {
  /** Every HTTP request received, the token endpoint included. */
  http: number;
  /** Web API requests (top-level; a $batch counts once). */
  api: number;
  token: number;
  gets: number;
  batches: number;
  batchOperations: number;
  maxBatchOperations: number;
  /** Write operations D365 committed (PATCH/POST, inside batches or not). */
  writes: number;
  writesBySet: Record<string, number>;
  faultsFired: number;
  log: Array<{ method: string; path: string; status: number; operations?: number }>;
}

export interface D365Emulator {
  /** The organization URL (https://127.0.0.1:<port>/<org>). */
  url: string;
  tokenEndpoint: string;
  caPem: string;
  negotiateToken: string;
  clientId: string;
  resource: string;
  users: Array<{ username: string; password: string }>;
  /** Every access token the AD FS endpoint issued (for leak checks). */
  issuedTokens: string[];
  /** The form field names of each token request (names only: the values hold the password). */
  tokenRequestFields: string[][];
  state: D365State;
  requests: D365Counters & { reset(): void };
  faults: { add(fault: FaultSpec): void; clear(): void; readonly pending: number };
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What IIS answers for a query string over maxQueryString (request filtering, sub-status 15). */
function queryStringTooLong(): Answer {
  return {
    status: 404,
    headers: { 'content-type': 'text/html' },
    body: '<html><head><title>IIS 10.0 Detailed Error - 404.15 - Not Found</title></head><body><h3>HTTP Error 404.15 - Not Found</h3><h4>The request filtering module is configured to deny a request where the query string is too long.</h4><p>Verify the configuration/system.webServer/security/requestFiltering/requestLimits@maxQueryString setting in the applicationhost.config or web.config file.</p></body></html>',
  };
}

function errorAnswer(status: number, code: string, message: string): Answer {
  return {
    status,
    headers: { 'content-type': JSON_TYPE, 'odata-version': '4.0' },
    body: JSON.stringify({
      error: {
        code,
        message,
        innererror: {
          message,
          type: 'Microsoft.Crm.CrmHttpException',
          stacktrace: '   at Microsoft.Crm.Extensibility.OData.CrmODataUtilities (emulated)',
        },
      },
    }),
  };
}

/** Splits a raw query string without re-encoding anything; values are decoded once. */
function parseQuery(raw: string): { params: Record<string, string>; rawParts: string[] } {
  const params: Record<string, string> = {};
  const rawParts = raw ? raw.split('&').filter(Boolean) : [];
  for (const part of rawParts) {
    const eq = part.indexOf('=');
    const name = decodeURIComponent(eq >= 0 ? part.slice(0, eq) : part);
    let value = eq >= 0 ? part.slice(eq + 1) : '';
    try {
      value = decodeURIComponent(value);
    } catch {
      throw new EmulatorHttpError(400, '', `The query option '${name}' is not correctly percent-encoded.`);
    }
    params[name] = value;
  }
  return { params, rawParts };
}

function preferences(header: string | undefined): {
  maxPageSize?: number;
  annotations: boolean;
  representation: boolean;
} {
  const text = header ?? '';
  const size = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(text);
  return {
    ...(size ? { maxPageSize: Number(size[1]) } : {}),
    annotations: /odata\.include-annotations\s*=\s*"?[^"]*(\*|lookuplogicalname)/i.test(text),
    representation: /return\s*=\s*representation/i.test(text),
  };
}

function skipToken(pageNumber: number, primaryKey: string, first: string, last: string): string {
  const inner = `<cookie page="${pageNumber}"><${primaryKey} last="{${last.toUpperCase()}}" first="{${first.toUpperCase()}}" /></cookie>`;
  return `<cookie pagenumber="${pageNumber + 1}" pagingcookie="${encodeURIComponent(encodeURIComponent(inner))}" istracking="False" />`;
}

function readSkipToken(token: string): { page: number; last: string } {
  const outer = /^<cookie pagenumber="(\d+)" pagingcookie="([^"]*)" istracking="False" \/>$/.exec(token);
  // The paging cookie is encoded twice inside the token; a client that "cleans up" the link loses a level.
  if (!outer || !/^%253[cC]cookie/.test(outer[2]!)) {
    throw new EmulatorHttpError(
      400,
      '',
      'The $skiptoken is not valid: it must be passed on exactly as @odata.nextLink gave it.',
    );
  }
  let inner: string;
  try {
    inner = decodeURIComponent(decodeURIComponent(outer[2]!));
  } catch {
    throw new EmulatorHttpError(400, '', 'The paging cookie of the $skiptoken is not valid.');
  }
  const last = /last="\{([0-9A-Fa-f-]{36})\}"/.exec(inner);
  if (!last) throw new EmulatorHttpError(400, '', 'The paging cookie of the $skiptoken is not valid.');
  return { page: Number(outer[1]) - 1, last: last[1]!.toLowerCase() };
}

export async function startD365Emulator(options: D365EmulatorOptions = {}): Promise<D365Emulator> {
  const tls = options.tls ?? makeSandboxTls();
  const organization = options.organization ?? 'contoso';
  const state = new D365State({ ...options, organization });
  const authMode = options.auth?.mode ?? 'both';
  const negotiateToken = options.auth?.negotiateToken ?? Buffer.from('sandbox-windows-identity').toString('base64');
  const clientId = options.auth?.clientId ?? '2ad88395-b77d-4561-9441-d0e40824f9bc';
  const users = options.auth?.users ?? [
    { username: 'svc-d365-sync@contoso.com', password: randomBytes(12).toString('base64url') },
  ];
  const tokens = new Map<string, number>();
  const issuedTokens: string[] = [];
  const tokenRequestFields: string[][] = [];
  const batchLimit = options.batchLimit ?? 100;
  const maxQueryStringBytes = options.maxQueryStringBytes ?? 2048;
  const faults: Array<FaultSpec & { seen: number; fired: number }> = (options.faults ?? []).map((f) => ({
    ...f,
    seen: 0,
    fired: 0,
  }));
  const counters: D365Counters = {
    http: 0,
    api: 0,
    token: 0,
    gets: 0,
    batches: 0,
    batchOperations: 0,
    maxBatchOperations: 0,
    writes: 0,
    writesBySet: {},
    faultsFired: 0,
    log: [],
  };
  const basePath = `/${organization}/api/data/`;
  let url = '';
  let publicApiBase = '';
  let resource = options.auth?.resource ?? '';

  const commit = (tx: Transaction) => {
    state.commit(tx);
    counters.writes += tx.writes;
    for (const [set, n] of Object.entries(tx.writesBySet))
      counters.writesBySet[set] = (counters.writesBySet[set] ?? 0) + n;
  };

  /** The resource path after /api/data/v9.x/ and the raw query, from any form a part may use. */
  const resolveTarget = (target: string): { path: string; rawQuery: string } => {
    let rest = target.replace(/^https?:\/\/[^/]+/i, '');
    if (rest.startsWith('/')) {
      const version = /^\/[^/]+\/api\/data\/v9\.[01]\//.exec(rest);
      if (!version || !rest.startsWith(basePath))
        throw new EmulatorHttpError(404, '', `Resource not found: ${rest.split('?')[0]}`);
      rest = rest.slice(version[0].length);
    }
    const q = rest.indexOf('?');
    return { path: q >= 0 ? rest.slice(0, q) : rest, rawQuery: q >= 0 ? rest.slice(q + 1) : '' };
  };

  const columnsOf = (meta: EntityMeta, select: string | undefined): string[] | undefined => {
    if (!select) return undefined;
    return select.split(',').map((column) => {
      const name = column.trim();
      if (name !== meta.primaryKey && !attributeOfColumn(meta, name)) {
        throw new EmulatorHttpError(
          400,
          '0x80060888',
          `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${meta.logicalName}'.`,
        );
      }
      const attribute = attributeOfColumn(meta, name);
      if (attribute && attribute.meta.read === false) {
        throw new EmulatorHttpError(
          400,
          '0x80060888',
          `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${meta.logicalName}'.`,
        );
      }
      return name;
    });
  };

  const ok = (body: unknown, extra: Record<string, string> = {}): Answer => ({
    status: 200,
    headers: { 'content-type': JSON_TYPE, 'odata-version': '4.0', ...extra },
    body: JSON.stringify(body),
  });

  const collection = (meta: EntityMeta, rawQuery: string, prefer: string | undefined): Answer => {
    state.requireRead(meta.entitySet);
    const { params, rawParts } = parseQuery(rawQuery);
    for (const name of Object.keys(params)) {
      if (name.startsWith('$') && !['$select', '$filter', '$top', '$skiptoken', '$count'].includes(name)) {
        throw new EmulatorHttpError(400, '', `The query option '${name}' is not supported by the emulator.`);
      }
    }
    const token = params.$skiptoken ? readSkipToken(params.$skiptoken) : undefined;
    if (meta.entitySet === 'mailboxes') state.runAsyncJobs(!token);
    const select = columnsOf(meta, params.$select);
    let filter: FilterNode | undefined;
    if (params.$filter) {
      filter = parseFilter(
        params.$filter,
        (name) => name === meta.primaryKey || !!attributeOfColumn(meta, name),
        meta.logicalName,
        (name) => {
          if (name === meta.primaryKey) return name;
          const attribute = meta.attributes[name];
          return attribute ? columnName(name, attribute) : undefined;
        },
      );
    }
    const wants = preferences(prefer);
    const top = params.$top !== undefined ? Number(params.$top) : undefined;
    const pageSize = top !== undefined ? top : Math.min(5000, wants.maxPageSize ?? 5000);
    const table = state.table(meta.entitySet);
    const ids = state.sortedIds(meta.entitySet);
    let start = 0;
    if (token) {
      let lo = 0;
      let hi = ids.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ids[mid]! <= token.last) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const value: Record<string, unknown>[] = [];
    const pageIds: string[] = [];
    let more = false;
    for (let i = start; i < ids.length; i++) {
      const row = table.get(ids[i]!);
      if (!row || (filter && !evaluateFilter(filter, row))) continue;
      if (value.length >= pageSize) {
        more = top === undefined;
        break;
      }
      value.push(state.project(meta, row, select, wants.annotations));
      pageIds.push(ids[i]!);
    }
    const body: Record<string, unknown> = {
      '@odata.context': `${publicApiBase}$metadata#${meta.entitySet}${select ? `(${select.join(',')})` : ''}`,
      value,
    };
    if (more && pageIds.length) {
      const kept = rawParts.filter((part) => !part.startsWith('$skiptoken='));
      const cookie = skipToken(token ? token.page + 1 : 1, meta.primaryKey, pageIds[0]!, pageIds[pageIds.length - 1]!);
      body['@odata.nextLink'] =
        `${publicApiBase}${meta.entitySet}?${[...kept, `$skiptoken=${encodeURIComponent(cookie)}`].join('&')}`;
    }
    return ok(
      body,
      wants.maxPageSize && top === undefined ? { 'preference-applied': `odata.maxpagesize=${pageSize}` } : {},
    );
  };

  /** Executes one request (top level or a batch part). Writes go into `tx`. */
  const execute = (
    method: string,
    target: string,
    headers: Record<string, string>,
    bodyText: string,
    tx: Transaction,
  ): Answer => {
    const { path, rawQuery } = resolveTarget(target);
    if (/^WhoAmI(\(\))?$/.test(path)) {
      if (method !== 'GET') throw new EmulatorHttpError(405, '', 'WhoAmI is a function: use GET.');
      return ok({
        '@odata.context': `${publicApiBase}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: state.businessUnitId,
        UserId: state.callerId,
        OrganizationId: state.organizationId,
      });
    }
    const nested = /^systemusers\(([0-9a-fA-F-]{36})\)\/(.+)$/.exec(path);
    if (nested) {
      const userId = nested[1]!.toLowerCase();
      if (!state.table('systemusers').has(userId))
        throw new EmulatorHttpError(404, '0x80040217', `systemuser With Id = ${userId} Does Not Exist`);
      if (/^Microsoft\.Dynamics\.CRM\.RetrieveUserPrivileges(\(\))?$/.test(nested[2]!)) {
        const privileges = userId === state.callerId ? [...state.callerPrivileges] : [];
        return ok({
          '@odata.context': `${publicApiBase}$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse`,
          RolePrivileges: privileges.map((name) => ({
            Depth: state.callerDepths.get(name) ?? 'Global',
            PrivilegeId: state.privilegeIds.get(name),
            BusinessUnitId: state.businessUnitId,
            ...(options.privilegeNamesInResponse ? { PrivilegeName: name } : {}),
          })),
        });
      }
      if (nested[2] === 'systemuserroles_association' || nested[2]!.startsWith('systemuserroles_association?')) {
        const meta = ENTITIES.roles!;
        const { params } = parseQuery(rawQuery);
        const select = columnsOf(meta, params.$select);
        const roles = userId === state.callerId ? state.callerRoleIds : [];
        return ok({
          '@odata.context': `${publicApiBase}$metadata#roles`,
          value: roles.map((id) => state.project(meta, state.table('roles').get(id)!, select, false)),
        });
      }
      throw new EmulatorHttpError(404, '', `Resource not found for the segment '${nested[2]}'.`);
    }
    const record = /^([a-z]+)\(([0-9a-fA-F-]{36})\)$/.exec(path);
    const setName = record ? record[1]! : path;
    const meta = ENTITIES[setName];
    if (!meta) throw new EmulatorHttpError(404, '0x80060888', `Resource not found for the segment '${setName}'.`);
    if (!record) {
      if (method === 'GET') {
        counters.gets++;
        return collection(meta, rawQuery, headers.prefer);
      }
      if (method === 'POST') {
        const id = state.write(tx, meta.entitySet, undefined, parseJson(bodyText), undefined);
        const entityUrl = `${publicApiBase}${meta.entitySet}(${id})`;
        if (preferences(headers.prefer).representation) {
          return {
            status: 201,
            headers: { 'content-type': JSON_TYPE, 'odata-entityid': entityUrl },
            body: JSON.stringify(state.project(meta, state.table(meta.entitySet).get(id)!, undefined, false)),
          };
        }
        return {
          status: 204,
          headers: { 'odata-version': '4.0', 'odata-entityid': entityUrl, location: entityUrl },
          body: '',
        };
      }
      throw new EmulatorHttpError(405, '', `${method} is not allowed on ${meta.entitySet}.`);
    }
    const id = record[2]!.toLowerCase();
    if (method === 'GET') {
      counters.gets++;
      state.requireRead(meta.entitySet);
      if (meta.entitySet === 'mailboxes') state.runAsyncJobs(true);
      const row = state.table(meta.entitySet).get(id);
      if (!row) throw new EmulatorHttpError(404, '0x80040217', `${meta.logicalName} With Id = ${id} Does Not Exist`);
      const { params } = parseQuery(rawQuery);
      return ok({
        '@odata.context': `${publicApiBase}$metadata#${meta.entitySet}/$entity`,
        ...state.project(meta, row, columnsOf(meta, params.$select), preferences(headers.prefer).annotations),
      });
    }
    if (method === 'PATCH') {
      state.write(tx, meta.entitySet, id, parseJson(bodyText), headers['if-match']);
      return {
        status: 204,
        headers: { 'odata-version': '4.0', 'odata-entityid': `${publicApiBase}${meta.entitySet}(${id})` },
        body: '',
      };
    }
    throw new EmulatorHttpError(405, '', `${method} is not allowed on ${meta.entitySet}(${id}).`);
  };

  const answerOf = (error: unknown): Answer => {
    if (error instanceof EmulatorHttpError) return errorAnswer(error.status, error.code, error.message);
    if (error instanceof ODataQueryError) return errorAnswer(400, error.code, error.message);
    return errorAnswer(500, '0x80040216', `An unexpected error occurred. ${(error as Error).message}`);
  };

  /** One request outside a batch: its own transaction. */
  const single = (method: string, target: string, headers: Record<string, string>, body: string): Answer => {
    const tx = new Transaction();
    try {
      const answer = execute(method, target, headers, body, tx);
      commit(tx);
      return answer;
    } catch (error) {
      state.rollback(tx);
      return answerOf(error);
    }
  };

  const batch = (headers: Record<string, string>, body: string): Answer => {
    const items = parseBatchRequest(headers['content-type'], body);
    const operations = items.reduce((n, item) => n + (item.kind === 'request' ? 1 : item.requests.length), 0);
    counters.batches++;
    counters.batchOperations += operations;
    counters.maxBatchOperations = Math.max(counters.maxBatchOperations, operations);
    if (operations > batchLimit) {
      return errorAnswer(
        400,
        '0x8006088a',
        `The number of operations in the batch (${operations}) exceeds the maximum of ${batchLimit}.`,
      );
    }
    // v9.0 ignores Prefer: odata.continue-on-error and stops at the first error.
    const responses: BatchResponseItem[] = [];
    let failedStatus = 0;
    for (const item of items) {
      if (item.kind === 'request') {
        const answer = single(item.request.method, item.request.target, item.request.headers, item.request.body);
        responses.push({ kind: 'response', response: { ...answer } });
        if (answer.status >= 400) {
          failedStatus = answer.status;
          break;
        }
        continue;
      }
      const tx = new Transaction();
      const done: PartResponse[] = [];
      const created = new Map<string, string>();
      let failure: PartResponse | undefined;
      for (const request of item.requests) {
        try {
          const target = resolveReference(request, created);
          const answer = execute(request.method, target, request.headers, request.body, tx);
          if (request.contentId && answer.headers['odata-entityid'])
            created.set(request.contentId, answer.headers['odata-entityid']);
          done.push({ ...answer, ...(request.contentId ? { contentId: request.contentId } : {}) });
        } catch (error) {
          failure = { ...answerOf(error), ...(request.contentId ? { contentId: request.contentId } : {}) };
          break;
        }
      }
      if (failure) {
        state.rollback(tx);
        // A failed change set is answered by the failing operation's error alone.
        responses.push({ kind: 'response', response: failure });
        failedStatus = failure.status;
        break;
      }
      commit(tx);
      responses.push({ kind: 'changeset', responses: done });
    }
    const built = buildBatchResponse(responses);
    return {
      status: failedStatus || 200,
      headers: { 'content-type': built.contentType, 'odata-version': '4.0' },
      body: built.body,
    };
  };

  const resolveReference = (request: PartRequest, created: Map<string, string>): string => {
    const reference = /^\$(\d+)(.*)$/.exec(request.target);
    if (!reference) return request.target;
    const entity = created.get(reference[1]!);
    if (!entity)
      throw new EmulatorHttpError(
        400,
        '',
        `Content-ID Reference: '$${reference[1]}' does not exist in the batch context.`,
      );
    return entity + reference[2];
  };

  const tokenEndpoint = (body: string): Answer => {
    counters.token++;
    const form = new URLSearchParams(body);
    tokenRequestFields.push([...form.keys()].sort());
    const fail = (status: number, error: string, description: string): Answer => ({
      status,
      headers: { 'content-type': 'application/json;charset=UTF-8' },
      body: JSON.stringify({ error, error_description: description }),
    });
    if (form.get('grant_type') !== 'password')
      return fail(
        400,
        'unsupported_grant_type',
        "MSIS9611: The authorization server does not support the requested 'grant_type'.",
      );
    if (form.get('client_id') !== clientId) {
      return fail(
        400,
        'invalid_client',
        `MSIS9223: Received invalid OAuth authorization request. The received 'client_id' is invalid as no registered client was found with this client identifier. Make sure that the client is registered. Received client_id: '${form.get('client_id')}'.`,
      );
    }
    if (form.get('resource') !== resource) {
      return fail(
        400,
        'invalid_resource',
        "MSIS9329: Received invalid OAuth request. The 'resource' parameter's value does not correspond to any valid registered relying party.",
      );
    }
    const user = users.find((u) => u.username.toLowerCase() === (form.get('username') ?? '').toLowerCase());
    if (!user || user.password !== form.get('password'))
      return fail(400, 'invalid_grant', "MSIS9659: Invalid 'username' or 'password'.");
    const token = randomBytes(32).toString('base64url');
    const lifetime = options.auth?.tokenLifetimeSeconds ?? 3600;
    tokens.set(token, Date.now() + lifetime * 1000);
    issuedTokens.push(token);
    return ok({ access_token: token, token_type: 'bearer', expires_in: lifetime, resource });
  };

  const authorized = (header: string | undefined): boolean => {
    if (!header) return false;
    const [scheme, value] = header.split(/\s+/, 2);
    if (/^negotiate$/i.test(scheme ?? '') && authMode !== 'bearer') return value === negotiateToken;
    if (/^bearer$/i.test(scheme ?? '') && authMode !== 'negotiate') {
      const expires = tokens.get(value ?? '');
      return expires !== undefined && expires > Date.now();
    }
    return false;
  };

  const unauthorized = (): Answer => {
    const challenges: string[] = [];
    if (authMode !== 'bearer') challenges.push('Negotiate', 'NTLM');
    if (authMode !== 'negotiate')
      challenges.push(
        `Bearer authorization_uri=${url.replace(/\/[^/]+$/, '')}/adfs/oauth2/authorize, resource_id=${resource}`,
      );
    return {
      status: 401,
      headers: { 'content-type': 'text/html', 'www-authenticate': challenges.join(', ') },
      body: '<html><head><title>401 - Unauthorized</title></head><body>401 - Unauthorized: Access is denied due to invalid credentials.</body></html>',
    };
  };

  const pickFault = (method: string, path: string): (FaultSpec & { seen: number; fired: number }) | undefined => {
    for (const fault of faults) {
      if ((fault.times ?? 1) <= fault.fired) continue;
      if (fault.match?.method && fault.match.method.toUpperCase() !== method) continue;
      const pattern = fault.match?.path;
      if (pattern && !(typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path))) continue;
      fault.seen++;
      if (fault.seen <= (fault.skip ?? 0)) continue;
      fault.fired++;
      counters.faultsFired++;
      return fault;
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    counters.http++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    if (options.latencyMs) await sleep(options.latencyMs);
    const isToken = rawUrl.split('?')[0] === '/adfs/oauth2/token';
    const apiPath = rawUrl.startsWith(basePath) ? rawUrl.slice(basePath.length).replace(/^v9\.[01]\//, '') : rawUrl;
    const fault = pickFault(method, isToken ? rawUrl : apiPath);
    let operations: number | undefined;
    const send = (answer: Answer) => {
      if (!isToken)
        counters.log.push({
          method,
          path: apiPath.split('?')[0]!,
          status: answer.status,
          ...(operations !== undefined ? { operations } : {}),
        });
      if (counters.log.length > 20_000) counters.log.splice(0, 10_000);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    };
    if (fault && !fault.afterProcessing) {
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'status') {
        const status = fault.status ?? 503;
        const answer = errorAnswer(
          status,
          '',
          status === 429 ? 'Number of requests exceeded the limit.' : 'The service is unavailable.',
        );
        if (fault.retryAfterSeconds !== undefined) answer.headers['retry-after'] = String(fault.retryAfterSeconds);
        send(answer);
        return;
      }
      if (fault.kind === 'slow') await sleep(fault.delayMs ?? 5000);
    }
    let answer: Answer;
    const query = rawUrl.indexOf('?');
    const queryBytes = query >= 0 ? Buffer.byteLength(rawUrl.slice(query + 1)) : 0;
    if (queryBytes > maxQueryStringBytes) answer = queryStringTooLong();
    else if (isToken && method === 'POST') answer = tokenEndpoint(body);
    else if (!rawUrl.startsWith(basePath) || !/^v9\.[01]\//.test(rawUrl.slice(basePath.length))) {
      answer = errorAnswer(404, '', `Resource not found: ${rawUrl.split('?')[0]}`);
    } else if (!authorized(headers.authorization)) answer = unauthorized();
    else {
      counters.api++;
      try {
        if (apiPath.split('?')[0] === '$batch' && method === 'POST') {
          const before = counters.batchOperations;
          answer = batch(headers, body);
          operations = counters.batchOperations - before;
        } else answer = single(method, rawUrl, headers, body);
      } catch (error) {
        answer = answerOf(error);
      }
    }
    if (fault?.afterProcessing) {
      if (fault.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'slow') await sleep(fault.delayMs ?? 5000);
      if (fault.kind === 'malformed')
        answer = { ...answer, body: answer.body.slice(0, Math.floor(answer.body.length / 2)) };
    } else if (fault?.kind === 'malformed') {
      answer = { status: 200, headers: { 'content-type': JSON_TYPE }, body: '{"@odata.context":"' };
    }
    if (res.destroyed) return;
    send(answer);
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) {
        const answer = errorAnswer(500, '0x80040216', (error as Error).message);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      }
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  url = `https://127.0.0.1:${port}/${organization}`;
  const publicUrl = (options.publicUrl ?? url).replace(/\/+$/, '');
  publicApiBase = `${publicUrl}/api/data/v9.0/`;
  if (!resource) resource = `${publicUrl.replace(/^(https:\/\/[^/]+).*$/, '$1')}/`;

  return {
    url,
    tokenEndpoint: `https://127.0.0.1:${port}/adfs/oauth2/token`,
    caPem: tls.caPem,
    negotiateToken,
    clientId,
    resource,
    users,
    issuedTokens,
    tokenRequestFields,
    state,
    requests: Object.assign(counters, {
      reset() {
        for (const key of [
          'http',
          'api',
          'token',
          'gets',
          'batches',
          'batchOperations',
          'maxBatchOperations',
          'writes',
          'faultsFired',
        ] as const)
          counters[key] = 0;
        counters.writesBySet = {};
        counters.log.length = 0;
      },
    }),
    faults: {
      add: (fault) => faults.push({ ...fault, seen: 0, fired: 0 }),
      clear: () => (faults.length = 0),
      get pending() {
        return faults.filter((f) => (f.times ?? 1) > f.fired).length;
      },
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new EmulatorHttpError(400, '', 'The request body is not valid JSON.');
  }
}
