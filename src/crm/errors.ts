// D365 Web API errors, kept as D365 wrote them. The v9.0 Web API often leaves `code` empty and puts
// the hex code in the message ("[0x80044331:StringLengthTooLong] …"), so the code is also read from the
// text; the message itself is never rewritten, only explained next to it.

export interface ODataErrorBody {
  error?: {
    code?: string;
    message?: string;
    innererror?: { message?: string; type?: string; stacktrace?: string };
  };
  /** Older endpoints answer { Message, ExceptionMessage }. */
  Message?: string;
  ExceptionMessage?: string;
}

/** What a failed Web API call said, plus where it was sent (method and path, never headers). */
export class CrmError extends Error {
  constructor(
    readonly status: number,
    /** The code D365 sent, or the hex code found in the message, or ''. */
    readonly code: string,
    /** D365's message verbatim ('' when it sent none). */
    readonly crmMessage: string,
    /** "PATCH mailboxes(…)": what was asked, for the reader. */
    readonly operation: string,
    readonly innerMessage?: string,
  ) {
    super(CrmError.describe(status, code, crmMessage, operation));
    this.name = 'CrmError';
  }

  static describe(status: number, code: string, message: string, operation: string): string {
    const text = message || '(no message)';
    const codePart = code && !text.includes(code) ? ` ${code}` : '';
    const hint = hintFor(status, code, message);
    return `${operation} failed: HTTP ${status}${codePart}: ${text}${hint ? ` (${hint})` : ''}`;
  }

  /** Whether the error is a privilege denial (403 / 0x80040220 / 0x80040231). */
  get isPrivilegeDenied(): boolean {
    return this.status === 403 || /0x80040220|0x80040231|privilege/i.test(`${this.code} ${this.crmMessage}`);
  }
}

/** The hex code at the start of an error, in brackets or bare ("0x80040220", "[0x80044331:…]"). */
export function hexCodeIn(text: string): string | undefined {
  return /0x[0-9a-fA-F]{8}/.exec(text)?.[0]?.toLowerCase();
}

const HINTS: Array<[RegExp, string]> = [
  [/0x80040220/, 'the caller lacks a privilege: give it the System Administrator role or the privilege named'],
  [/0x80040231/, 'the target user or team lacks a privilege'],
  [/0x80042f09/, 'the caller has no security role in D365'],
  [/0x80060888/, 'an attribute or navigation name is wrong for this D365 version'],
  [/0x80044331/, 'D365 rejected a value: see the message for the attribute'],
  [/0x80040217/, 'the record does not exist (deleted, or another organization)'],
  [/0x80041103/, 'a query function names a column (_x_value) instead of the attribute logical name'],
  [
    /404\.15/,
    'IIS refused a query string longer than its request-filtering maxQueryString (2,048 bytes by default) before D365 saw it',
  ],
];

function hintFor(status: number, code: string, message: string): string | undefined {
  const text = `${code} ${message}`;
  for (const [pattern, hint] of HINTS) if (pattern.test(text)) return hint;
  if (status === 401) return 'D365 did not accept the credentials of the runner';
  if (status === 404 && !message) return 'wrong organization URL or API version';
  return undefined;
}

/** Reads an OData error body; tolerates HTML (IIS, AD FS sign-in pages) and empty bodies. */
export function parseODataError(status: number, body: string, operation: string): CrmError {
  let parsed: ODataErrorBody | undefined;
  try {
    parsed = body ? (JSON.parse(body) as ODataErrorBody) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed && (parsed.error || parsed.Message)) {
    const message = parsed.error?.message ?? parsed.ExceptionMessage ?? parsed.Message ?? '';
    const code = parsed.error?.code || hexCodeIn(message) || '';
    return new CrmError(status, code, message, operation, parsed.error?.innererror?.message);
  }
  const text = body.trim();
  if (/<html|<!doctype/i.test(text)) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    const signIn = /adfs|sign in|signin/i.test(text);
    const message = signIn
      ? `D365 answered with a sign-in page${title ? ` ("${title}")` : ''}: this organization uses claims/IFD, use deployment.webApi.auth adfs-password`
      : `D365 answered with an HTML page${title ? ` ("${title}")` : ''}`;
    return new CrmError(status, '', message, operation);
  }
  return new CrmError(status, hexCodeIn(text) ?? '', text.slice(0, 500), operation);
}

/** An answer that could not be read at all (cut off, not JSON, not multipart). */
export class CrmProtocolError extends Error {
  constructor(
    message: string,
    readonly operation: string,
  ) {
    super(`${operation}: ${message}`);
    this.name = 'CrmProtocolError';
  }
}
