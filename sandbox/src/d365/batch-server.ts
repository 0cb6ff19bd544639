// The emulator's side of $batch: reads a multipart/mixed request into requests and change sets, and
// writes the multipart answer. Written separately from the client's builder and parser (src/crm/batch.ts)
// so that a mistake in one does not hide behind the same mistake in the other.
import { randomUUID } from 'node:crypto';
import { EmulatorHttpError } from './state.js';

export interface PartRequest {
  method: string;
  /** As written in the part: absolute URL, absolute path or relative to the service root. */
  target: string;
  headers: Record<string, string>;
  body: string;
  contentId?: string;
}

export type BatchRequestItem =
  { kind: 'request'; request: PartRequest } | { kind: 'changeset'; requests: PartRequest[] };

export interface PartResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  contentId?: string;
}

export type BatchResponseItem =
  { kind: 'response'; response: PartResponse } | { kind: 'changeset'; responses: PartResponse[] };

function boundary(contentType: string | undefined): string | undefined {
  const match = /boundary\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return /multipart\/mixed/i.test(contentType ?? '') ? match?.[1] : undefined;
}

function splitParts(body: string, mark: string): string[] {
  const lines = body.split(/\r?\n/);
  const parts: string[] = [];
  let current: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${mark}--`) {
      if (current) parts.push(current.join('\r\n'));
      closed = true;
      break;
    }
    if (trimmed === `--${mark}`) {
      if (current) parts.push(current.join('\r\n'));
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (!closed) throw new EmulatorHttpError(400, '', `The batch request body is not terminated by --${mark}--.`);
  return parts;
}

function splitHead(text: string): { headers: Record<string, string>; rest: string } {
  const at = text.indexOf('\r\n\r\n');
  const head = at >= 0 ? text.slice(0, at) : text;
  const rest = at >= 0 ? text.slice(at + 4) : '';
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, rest };
}

function parseRequestPart(part: string): PartRequest {
  const { headers: mime, rest } = splitHead(part);
  if (!/application\/http/i.test(mime['content-type'] ?? '')) {
    throw new EmulatorHttpError(
      400,
      '',
      `A batch part has Content-Type '${mime['content-type'] ?? ''}'; expected application/http.`,
    );
  }
  const lineEnd = rest.indexOf('\r\n');
  const requestLine = lineEnd >= 0 ? rest.slice(0, lineEnd) : rest;
  const match = /^(GET|POST|PATCH|PUT|DELETE)\s+(\S+)\s+HTTP\/1\.[01]$/.exec(requestLine.trim());
  if (!match)
    throw new EmulatorHttpError(400, '', `The batch part's request line '${requestLine.slice(0, 100)}' is not valid.`);
  const { headers, rest: body } = splitHead(lineEnd >= 0 ? rest.slice(lineEnd + 2) : '');
  const contentId = mime['content-id'] ?? headers['content-id'];
  return { method: match[1]!, target: match[2]!, headers, body: body.trim(), ...(contentId ? { contentId } : {}) };
}

/** Reads a $batch request body. */
export function parseBatchRequest(contentType: string | undefined, body: string): BatchRequestItem[] {
  const mark = boundary(contentType);
  if (!mark)
    throw new EmulatorHttpError(
      400,
      '',
      "The content type of a batch request must be 'multipart/mixed' with a boundary.",
    );
  return splitParts(body, mark).map((part): BatchRequestItem => {
    const { headers, rest } = splitHead(part);
    const nested = boundary(headers['content-type']);
    if (nested) {
      const requests = splitParts(rest, nested).map(parseRequestPart);
      for (const request of requests) {
        if (request.method === 'GET')
          throw new EmulatorHttpError(400, '', 'GET requests are not allowed inside a change set.');
      }
      return { kind: 'changeset', requests };
    }
    return { kind: 'request', request: parseRequestPart(part) };
  });
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function responsePart(response: PartResponse, contentId?: string): string {
  let text = 'Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n';
  if (contentId) text += `Content-ID: ${contentId}\r\n`;
  text += `\r\nHTTP/1.1 ${response.status} ${REASONS[response.status] ?? 'Status'}\r\n`;
  for (const [name, value] of Object.entries(response.headers)) text += `${name}: ${value}\r\n`;
  text += `\r\n${response.body}\r\n`;
  return text;
}

/** Writes a $batch answer; returns the Content-Type and the body. */
export function buildBatchResponse(items: BatchResponseItem[]): { contentType: string; body: string } {
  const mark = `batchresponse_${randomUUID()}`;
  let body = '';
  for (const item of items) {
    body += `--${mark}\r\n`;
    if (item.kind === 'response') {
      body += responsePart(item.response, item.response.contentId);
      continue;
    }
    const inner = `changesetresponse_${randomUUID()}`;
    body += `Content-Type: multipart/mixed; boundary=${inner}\r\n\r\n`;
    for (const response of item.responses) body += `--${inner}\r\n${responsePart(response, response.contentId)}`;
    body += `--${inner}--\r\n`;
  }
  body += `--${mark}--\r\n`;
  return { contentType: `multipart/mixed; boundary=${mark}`, body };
}
