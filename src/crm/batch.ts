// OData $batch in the multipart format the D365 v9 Web API speaks: a multipart/mixed body whose parts
// are single requests (application/http) or change sets (a nested multipart/mixed whose operations
// succeed or fail together). Each operation in a change set carries a Content-ID, unique within the
// batch, so an answer can be matched to its operation even when D365 stops at the first error.
import { randomUUID } from 'node:crypto';

export interface BatchOperation {
  method: 'POST' | 'PATCH' | 'DELETE';
  /** Absolute URL. */
  url: string;
  headers?: Record<string, string>;
  /** A JSON body (serialised here). */
  body?: unknown;
}

export interface BatchGet {
  method: 'GET';
  url: string;
  headers?: Record<string, string>;
}

export type BatchItem =
  { kind: 'changeset'; operations: BatchOperation[] } | { kind: 'request'; request: BatchGet | BatchOperation };

export interface BuiltBatch {
  contentType: string;
  body: string;
  /** Per item, the Content-IDs of its operations (empty for a single request). */
  contentIds: string[][];
  operations: number;
}

const CRLF = '\r\n';

function requestLines(op: BatchGet | BatchOperation): string {
  const headers: Record<string, string> = { accept: 'application/json', ...op.headers };
  let text = `${op.method} ${op.url} HTTP/1.1${CRLF}`;
  const hasBody = op.method !== 'GET' && (op as BatchOperation).body !== undefined;
  if (hasBody) headers['content-type'] = 'application/json;type=entry';
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}${CRLF}`;
  text += CRLF;
  if (hasBody) text += JSON.stringify((op as BatchOperation).body);
  return text + CRLF;
}

/** Builds a $batch body. Content-IDs are numbered from 1 across the whole batch. */
export function buildBatch(items: BatchItem[]): BuiltBatch {
  const boundary = `batch_${randomUUID()}`;
  let body = '';
  let nextId = 1;
  let operations = 0;
  const contentIds: string[][] = [];
  for (const item of items) {
    body += `--${boundary}${CRLF}`;
    if (item.kind === 'request') {
      body += `Content-Type: application/http${CRLF}Content-Transfer-Encoding: binary${CRLF}${CRLF}`;
      body += requestLines(item.request);
      contentIds.push([]);
      operations++;
      continue;
    }
    const changeset = `changeset_${randomUUID()}`;
    const ids: string[] = [];
    body += `Content-Type: multipart/mixed;boundary=${changeset}${CRLF}${CRLF}`;
    for (const op of item.operations) {
      const id = String(nextId++);
      ids.push(id);
      body += `--${changeset}${CRLF}Content-Type: application/http${CRLF}Content-Transfer-Encoding: binary${CRLF}Content-ID: ${id}${CRLF}${CRLF}`;
      body += requestLines(op);
      operations++;
    }
    body += `--${changeset}--${CRLF}${CRLF}`;
    contentIds.push(ids);
  }
  body += `--${boundary}--${CRLF}`;
  return { contentType: `multipart/mixed;boundary=${boundary}`, body, contentIds, operations };
}

export interface BatchPartResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The Content-ID the part carried, if any. */
  contentId?: string;
}

export type BatchResponseItem =
  { kind: 'response'; response: BatchPartResponse } | { kind: 'changeset'; responses: BatchPartResponse[] };

export class BatchFormatError extends Error {
  constructor(message: string) {
    super(`the $batch answer could not be read: ${message}`);
    this.name = 'BatchFormatError';
  }
}

/** The boundary parameter of a multipart Content-Type, or undefined when it is not multipart. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\//i.test(contentType)) return undefined;
  const match = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** Splits a multipart body into its parts (preamble and epilogue dropped). Linear: indexOf, no regex. */
function splitMultipart(body: string, boundary: string): string[] {
  const mark = `--${boundary}`;
  const parts: string[] = [];
  let partStart = -1;
  for (let at = body.indexOf(mark); at >= 0; at = body.indexOf(mark, at + mark.length)) {
    // A delimiter starts a line.
    if (at > 0 && body[at - 1] !== '\n') continue;
    let after = at + mark.length;
    const closing = body.startsWith('--', after);
    if (closing) after += 2;
    while (body[after] === ' ' || body[after] === '\t') after++;
    if (after < body.length && body[after] !== '\r' && body[after] !== '\n') continue;
    if (partStart >= 0) {
      // The line break before the delimiter belongs to the delimiter.
      let partEnd = at;
      if (body[partEnd - 1] === '\n') partEnd--;
      if (body[partEnd - 1] === '\r') partEnd--;
      parts.push(body.slice(partStart, Math.max(partStart, partEnd)));
    }
    if (closing) return parts;
    if (body[after] === '\r') after++;
    if (body[after] === '\n') after++;
    partStart = after;
  }
  throw new BatchFormatError(`no closing delimiter --${boundary}-- (the answer was cut off?)`);
}

/** Splits "headers CRLF CRLF rest" and reads the headers (names lower-cased). */
function headersAndRest(text: string): { headers: Record<string, string>; rest: string } {
  const match = /\r?\n\r?\n/.exec(text);
  const head = match ? text.slice(0, match.index) : text;
  const rest = match ? text.slice(match.index + match[0].length) : '';
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rest };
}

function parseHttpResponse(partText: string): BatchPartResponse {
  const { headers: mimeHeaders, rest } = headersAndRest(partText);
  const lineEnd = /\r?\n/.exec(rest);
  const statusLine = lineEnd ? rest.slice(0, lineEnd.index) : rest;
  const status = /^HTTP\/\d\.\d\s+(\d{3})/.exec(statusLine.trim());
  if (!status)
    throw new BatchFormatError(`a part does not start with an HTTP status line: "${statusLine.slice(0, 80)}"`);
  const afterStatus = lineEnd ? rest.slice(lineEnd.index + lineEnd[0].length) : '';
  // A response without headers or body ends right after the status line.
  const { headers, rest: body } = /^\r?\n/.test(afterStatus)
    ? { headers: {}, rest: afterStatus.replace(/^\r?\n/, '') }
    : headersAndRest(afterStatus);
  const contentId = mimeHeaders['content-id'] ?? headers['content-id'];
  return { status: Number(status[1]), headers, body: body.replace(/\s+$/, ''), ...(contentId ? { contentId } : {}) };
}

/** Reads a $batch answer into items in the order D365 answered them. */
export function parseBatchResponse(contentType: string | undefined, body: string): BatchResponseItem[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new BatchFormatError(`expected multipart/mixed, got ${contentType ?? 'no Content-Type'}`);
  return splitMultipart(body, boundary).map((part): BatchResponseItem => {
    const { headers, rest } = headersAndRest(part);
    const nested = boundaryOf(headers['content-type']);
    if (nested) {
      return { kind: 'changeset', responses: splitMultipart(rest, nested).map(parseHttpResponse) };
    }
    return { kind: 'response', response: parseHttpResponse(part) };
  });
}
