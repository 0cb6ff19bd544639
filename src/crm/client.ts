// The D365 Web API client: typed requests against <url>/api/data/v9.0/, pages streamed by following
// @odata.nextLink verbatim, and change sets sent in $batch requests of at most `batchSize` operations.
//
// Up to `concurrency` $batch requests are in flight at once (on-premises has no service-protection limits;
// 429/503 with Retry-After are still honoured by the transport).
//
// v9.0 has no odata.continue-on-error: D365 stops a batch at the first failed operation, rolls back
// that operation's change set and leaves the rest of the batch unprocessed. So each unit of work (the
// writes for one mailbox) is its own change set; when a batch stops, the failed unit is reported and
// every unit without a success answer is sent again in the next batch. Units are PATCHes that set
// absolute values, so sending one again after a lost answer does no harm.
import type { Logger } from '../hosts/host.js';
import {
  buildBatch,
  BatchFormatError,
  boundaryOf,
  parseBatchResponse,
  type BatchItem,
  type BatchPartResponse,
} from './batch.js';
import { CrmError, CrmProtocolError, parseODataError } from './errors.js';
import { HttpTimeoutError } from '../http/request.js';
import type { WhoAmI } from './entities.js';
import {
  backoffMs,
  defaultSleep,
  describeRequest,
  NOT_PROCESSED_STATUSES,
  type Transport,
  type WebApiMethod,
  type WebApiRequest,
  type WebApiResponse,
} from './transport.js';

export const DEFAULT_API_VERSION = '9.0';
/** "Batch requests can contain up to 100 individual requests" (CE Web API guide, execute batch operations, v9.0). */
export const MAX_BATCH_OPERATIONS = 100;
export const DEFAULT_BATCH_CONCURRENCY = 4;
/** The Web API's own maximum page size (and its default). */
export const MAX_PAGE_SIZE = 5000;

export interface WebApiClientOptions {
  /** The organization URL (deployment.webApi.url ?? deployment.url). */
  url: string;
  apiVersion?: string;
  transport: Transport;
  /** Operations per $batch request; more than maxBatchSize is sent as maxBatchSize. */
  batchSize: number;
  /** The server's batch limit (default 100, v9.0's documented limit). */
  maxBatchSize?: number;
  /** $batch requests in flight at once (default 4). */
  concurrency?: number;
  /** Rows per page (Prefer: odata.maxpagesize), at most 5000. */
  pageSize?: number;
  log?: Logger;
  sleep?: (ms: number) => Promise<void>;
  /** How often one change set is sent before it is reported as unanswered. */
  maxUnitAttempts?: number;
}

export interface ChangeOperation {
  method: 'PATCH' | 'POST' | 'DELETE';
  /** Relative to the API base, e.g. "mailboxes(<id>)". */
  path: string;
  body?: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** Operations that must succeed or fail together: one change set. */
export interface ChangeUnit<K> {
  key: K;
  operations: ChangeOperation[];
}

export interface ChangeUnitResult<K> {
  key: K;
  ok: boolean;
  error?: CrmError;
  /** Index of the operation that failed. */
  failedOperation?: number;
  /** How many times the unit was sent. */
  attempts: number;
}

export interface ExecuteOptions<K> {
  /** Whether the operations may be replayed after a lost answer (PATCH with absolute values: yes). */
  idempotent?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Called each time a unit is about to be sent; may return a changed unit (e.g. without a part that cannot succeed). */
  prepare?: (unit: ChangeUnit<K>) => ChangeUnit<K>;
  /** Called when a unit failed; returning a unit sends that one instead (it counts as another attempt). */
  retryWith?: (unit: ChangeUnit<K>, error: CrmError) => ChangeUnit<K> | undefined;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: unknown;
  idempotent?: boolean;
}

/** How D365 (and the emulator) word a batch that carries more operations than allowed. */
const TOO_MANY_OPERATIONS = /too many operations|maximum number of .* operations|exceeds the maximum/i;

const JSON_HEADERS = { accept: 'application/json', 'odata-maxversion': '4.0', 'odata-version': '4.0' };

export class WebApiClient {
  readonly apiBase: string;
  /** Operations per $batch: the configured size, lowered when D365 says a batch carries too many. */
  batchSize: number;
  readonly pageSize: number;
  readonly concurrency: number;
  /** What this client asked for; the transport's `sent` counts the HTTP round trips (retries included). */
  readonly stats = { requests: 0, batches: 0, batchOperations: 0, maxBatchOperations: 0, pages: 0 };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxUnitAttempts: number;

  constructor(private readonly options: WebApiClientOptions) {
    const version = options.apiVersion ?? DEFAULT_API_VERSION;
    if (!/^9\.\d$/.test(version)) throw new Error(`Web API version must look like 9.0 or 9.1, not ${version}`);
    this.apiBase = `${options.url.replace(/\/+$/, '')}/api/data/v${version}/`;
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1)
      throw new Error('batchSize must be a positive integer');
    const limit = options.maxBatchSize ?? MAX_BATCH_OPERATIONS;
    if (options.batchSize > limit) {
      options.log?.warn(
        `deployment.webApi.batchSize ${options.batchSize} is over the ${limit} operations a v9.0 $batch may carry: sending ${limit}`,
      );
    }
    this.batchSize = Math.min(options.batchSize, limit);
    this.concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new Error('concurrency must be a positive integer');
    this.pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, options.pageSize ?? MAX_PAGE_SIZE));
    this.sleep = options.sleep ?? defaultSleep;
    this.maxUnitAttempts = options.maxUnitAttempts ?? 5;
  }

  get transportKind(): string {
    return this.options.transport.kind;
  }

  /** HTTP requests sent to D365 so far (round trips, retries included). */
  get roundTrips(): number {
    return this.options.transport.sent;
  }

  /** An absolute URL for a path relative to the API base (absolute URLs pass through). */
  url(path: string): string {
    return /^https?:\/\//i.test(path) ? path : this.apiBase + path.replace(/^\/+/, '');
  }

  /**
   * Follows an @odata.nextLink without touching its path or query (the $skiptoken must stay byte for
   * byte). When D365 names itself differently from the URL the runner uses (deployment.webApi.url),
   * only the scheme, host and port are swapped for the runner's.
   */
  followLink(link: string): string {
    const origin = /^https?:\/\/[^/?#]+/i.exec(link)?.[0];
    if (!origin) return this.url(link);
    const ours = /^https?:\/\/[^/?#]+/i.exec(this.apiBase)![0];
    return origin.toLowerCase() === ours.toLowerCase() ? link : ours + link.slice(origin.length);
  }

  private async transportSend(req: WebApiRequest, idempotent: boolean): Promise<WebApiResponse> {
    this.stats.requests++;
    let responses: WebApiResponse[];
    try {
      responses = await this.options.transport.send([req], { idempotent });
    } catch (error) {
      // No answer at all after the transport's retries (reset, refused, timed out): say which request, not only
      // "socket hang up".
      if (error instanceof HttpTimeoutError || (error as NodeJS.ErrnoException).code) {
        throw new CrmProtocolError(
          `no answer from D365 (${(error as Error).message})`,
          describeRequest(req, this.apiBase),
        );
      }
      throw error;
    }
    const [res] = responses;
    if (!res) throw new CrmProtocolError('no answer', describeRequest(req, this.apiBase));
    return res;
  }

  /** Sends one request; a status of 400 or more becomes a CrmError with D365's code and message. */
  async request(method: WebApiMethod, path: string, options: RequestOptions = {}): Promise<WebApiResponse> {
    const req: WebApiRequest = { method, url: this.url(path), headers: { ...JSON_HEADERS, ...options.headers } };
    if (options.body !== undefined) {
      req.body = JSON.stringify(options.body);
      req.headers['content-type'] = 'application/json; charset=utf-8';
    }
    const res = await this.transportSend(req, options.idempotent ?? method !== 'POST');
    if (res.status >= 400) throw parseODataError(res.status, res.body, describeRequest(req, this.apiBase));
    return res;
  }

  /** GET and parse JSON; a cut-off or garbled answer is asked for again (GET is safe to repeat). */
  async get<T>(path: string, headers?: Record<string, string>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const res = await this.request('GET', path, { headers });
      try {
        return JSON.parse(res.body) as T;
      } catch {
        const operation = describeRequest({ method: 'GET', url: this.url(path) }, this.apiBase);
        if (attempt >= 3) throw new CrmProtocolError(`the answer is not JSON (${res.body.slice(0, 80)}…)`, operation);
        this.options.log?.warn(`${operation}: the answer was not readable JSON; asking again`);
        await this.sleep(backoffMs(attempt, { baseDelayMs: 250, maxDelayMs: 5000 }));
      }
    }
  }

  /**
   * Streams a collection page by page: only one page is held at a time. `path` may carry $select,
   * $filter and the like; paging uses Prefer: odata.maxpagesize (no $top: it switches paging off).
   */
  async *pages<T>(path: string, options: { pageSize?: number; annotations?: boolean } = {}): AsyncGenerator<T[]> {
    const prefer = [`odata.maxpagesize=${Math.min(MAX_PAGE_SIZE, options.pageSize ?? this.pageSize)}`];
    if (options.annotations) prefer.push('odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"');
    let next: string | undefined = this.url(path);
    const seen = new Set<string>();
    while (next) {
      const page: { value?: T[]; '@odata.nextLink'?: string } = await this.get(next, { prefer: prefer.join(',') });
      this.stats.pages++;
      if (!Array.isArray(page.value)) {
        throw new CrmProtocolError(
          'the answer has no value array',
          describeRequest({ method: 'GET', url: next }, this.apiBase),
        );
      }
      yield page.value;
      const link = page['@odata.nextLink'];
      if (link && seen.has(link))
        throw new CrmProtocolError(
          'D365 sent the same @odata.nextLink twice',
          describeRequest({ method: 'GET', url: link }),
        );
      if (link) seen.add(link);
      next = link ? this.followLink(link) : undefined;
    }
  }

  /** Streams rows (one page held at a time). */
  async *rows<T>(path: string, options: { pageSize?: number; annotations?: boolean } = {}): AsyncGenerator<T> {
    for await (const page of this.pages<T>(path, options)) yield* page;
  }

  async whoAmI(): Promise<WhoAmI> {
    return this.get<WhoAmI>('WhoAmI');
  }

  /**
   * Creates a record and returns its id. Not idempotent: when the answer is lost the record may or may
   * not exist, so callers read back (e.g. by name) before trying again.
   */
  async create(entitySet: string, body: Record<string, unknown>): Promise<string> {
    const res = await this.request('POST', entitySet, { body, idempotent: false });
    const entityId = res.headers['odata-entityid'] ?? res.headers['location'] ?? '';
    const id = /\(([0-9a-fA-F-]{36})\)\s*$/.exec(entityId)?.[1];
    if (id) return id.toLowerCase();
    try {
      const parsed = JSON.parse(res.body) as Record<string, unknown>;
      const key = Object.keys(parsed).find((name) => name === `${entitySet.replace(/s$/, '')}id`);
      if (key && typeof parsed[key] === 'string') return (parsed[key] as string).toLowerCase();
    } catch {
      // fall through
    }
    throw new CrmProtocolError(
      'D365 created the record but did not say its id (no OData-EntityId header)',
      `POST ${entitySet}`,
    );
  }

  /** Updates a record; If-Match: * keeps a PATCH from creating a record that is not there. */
  async update(entitySet: string, id: string, body: Record<string, unknown>): Promise<void> {
    await this.request('PATCH', `${entitySet}(${id})`, { body, headers: { 'if-match': '*' } });
  }

  /**
   * Sends units of work as change sets in $batch requests of at most `batchSize` operations. Every unit
   * gets a result: ok, or failed with D365's error. One unit failing never loses the others.
   */
  async executeChangeSets<K>(input: ChangeUnit<K>[], options: ExecuteOptions<K> = {}): Promise<ChangeUnitResult<K>[]> {
    const units = [...input];
    const idempotent = options.idempotent ?? units.every((unit) => unit.operations.every((op) => op.method !== 'POST'));
    const results: (ChangeUnitResult<K> | undefined)[] = new Array(units.length).fill(undefined);
    const attempts = new Array<number>(units.length).fill(0);
    let queue = units.map((_, index) => index);
    let window = Number.POSITIVE_INFINITY;
    let done = 0;
    let idleRounds = 0;
    let inFlight = 0;
    let stopped = false;
    const waiting: Array<() => void> = [];
    const wakeAll = () => waiting.splice(0).forEach((wake) => wake());
    const settle = (index: number, result: Omit<ChangeUnitResult<K>, 'key' | 'attempts'>) => {
      results[index] = { key: units[index]!.key, attempts: attempts[index]!, ...result };
      done++;
    };

    // Each worker takes the next batch from the shared queue (synchronously, so no unit is taken twice),
    // sends it, and puts what needs sending again at the head of the queue.
    const worker = async (): Promise<void> => {
      while (!stopped) {
        if (!queue.length) {
          if (inFlight === 0) return;
          await new Promise<void>((resolve) => waiting.push(resolve));
          continue;
        }
        const taken: number[] = [];
        let operations = 0;
        for (const index of queue) {
          const size = units[index]!.operations.length;
          if (taken.length >= window || operations + size > this.batchSize) break;
          taken.push(index);
          operations += size;
        }
        if (taken.length === 0) {
          const index = queue[0]!;
          const size = units[index]!.operations.length;
          settle(index, {
            ok: false,
            error: new CrmError(
              0,
              '',
              `a change set of ${size} operations does not fit a batch of ${this.batchSize}`,
              '$batch',
            ),
          });
          queue = queue.slice(1);
          continue;
        }
        queue = queue.slice(taken.length);
        for (const index of taken) {
          attempts[index]!++;
          if (options.prepare) units[index] = options.prepare(units[index]!);
        }

        inFlight++;
        let outcome: Awaited<ReturnType<typeof this.sendBatch<K>>>;
        try {
          outcome = await this.sendBatch(
            taken.map((index) => units[index]!),
            idempotent,
          );
        } catch (error) {
          stopped = true;
          throw error;
        } finally {
          inFlight--;
          wakeAll();
        }
        const before = done;
        let answered = false;
        const again: number[] = [];
        if (outcome.kind === 'refused' && operations > 1 && TOO_MANY_OPERATIONS.test(outcome.error.crmMessage)) {
          // The server's limit is lower than the batch size: halve and resend.
          const lower = Math.max(1, Math.floor(operations / 2));
          if (lower < this.batchSize) {
            this.batchSize = lower;
            this.options.log?.warn(
              `D365 refused a $batch of ${operations} operations (${outcome.error.crmMessage}); sending at most ${this.batchSize} from now on: lower deployment.webApi.batchSize`,
            );
          }
          for (const index of taken) attempts[index]!--;
          queue = [...taken, ...queue];
          wakeAll();
          continue;
        }
        if (outcome.kind === 'refused') {
          // The whole request was refused (not multipart): every unit in it gets that error.
          for (const index of taken) settle(index, { ok: false, error: outcome.error });
        } else {
          for (let position = 0; position < taken.length; position++) {
            const index = taken[position]!;
            const answer = outcome.answers[position];
            if (answer) answered = true;
            if (answer?.kind === 'ok') settle(index, { ok: true });
            else if (answer?.kind === 'failed') {
              const replacement =
                attempts[index]! < this.maxUnitAttempts ? options.retryWith?.(units[index]!, answer.error) : undefined;
              if (replacement) {
                units[index] = replacement;
                again.push(index);
              } else settle(index, { ok: false, error: answer.error, failedOperation: answer.operation });
            } else again.push(index);
          }
          if (outcome.ambiguous) {
            // Narrowing down is not the units' fault: it does not use up their attempts.
            window = Math.max(1, Math.ceil(taken.length / 2));
            for (const index of taken) attempts[index]!--;
          } else if (outcome.answers.some((answer) => answer?.kind === 'failed')) {
            // The failure was pinned on a unit: full batches again.
            window = Number.POSITIVE_INFINITY;
          }
        }
        // Units without an answer go again, first, in their order; unless they were tried too often.
        const retry = again.filter((index) => {
          if (attempts[index]! < this.maxUnitAttempts) return true;
          settle(index, {
            ok: false,
            error: new CrmError(
              0,
              '',
              `D365 did not answer this change set after ${attempts[index]} attempts`,
              '$batch',
            ),
          });
          return false;
        });
        queue = [...retry, ...queue];
        wakeAll();
        options.onProgress?.(done, units.length);
        if (done === before && retry.length && !answered && !(outcome.kind === 'answered' && outcome.ambiguous)) {
          idleRounds++;
          await this.sleep(backoffMs(idleRounds, { baseDelayMs: 500, maxDelayMs: 30_000 }));
        } else idleRounds = 0;
      }
    };
    const workers = Math.max(1, Math.min(this.concurrency, Math.ceil(units.length / this.batchSize) || 1));
    await Promise.all(Array.from({ length: workers }, () => worker()));
    return results as ChangeUnitResult<K>[];
  }

  private async sendBatch<K>(
    units: ChangeUnit<K>[],
    idempotent: boolean,
  ): Promise<
    | { kind: 'refused'; error: CrmError }
    | {
        kind: 'answered';
        answers: ({ kind: 'ok' } | { kind: 'failed'; error: CrmError; operation?: number } | undefined)[];
        ambiguous: boolean;
      }
  > {
    const items: BatchItem[] = units.map((unit) => ({
      kind: 'changeset',
      operations: unit.operations.map((op) => ({
        method: op.method,
        url: this.url(op.path),
        headers: { ...(op.method === 'PATCH' ? { 'if-match': '*' } : {}), ...op.headers },
        ...(op.body !== undefined ? { body: op.body } : {}),
      })),
    }));
    const built = buildBatch(items);
    this.stats.batches++;
    this.stats.batchOperations += built.operations;
    this.stats.maxBatchOperations = Math.max(this.stats.maxBatchOperations, built.operations);
    const req: WebApiRequest = {
      method: 'POST',
      url: this.url('$batch'),
      headers: { ...JSON_HEADERS, 'content-type': built.contentType },
      body: built.body,
    };
    const operation = `POST $batch (${units.length} change sets, ${built.operations} operations)`;
    const res = await this.transportSend(req, idempotent);
    if (NOT_PROCESSED_STATUSES.has(res.status)) {
      // The transport already waited and retried; D365 is still busy. Nothing was processed.
      return { kind: 'answered', answers: units.map(() => undefined), ambiguous: false };
    }
    if (!boundaryOf(res.headers['content-type'])) {
      if (res.status >= 400) return { kind: 'refused', error: parseODataError(res.status, res.body, operation) };
      this.options.log?.warn(`${operation}: the answer is not multipart (HTTP ${res.status}); sending again`);
      return { kind: 'answered', answers: units.map(() => undefined), ambiguous: false };
    }
    let parsed;
    try {
      parsed = parseBatchResponse(res.headers['content-type'], res.body);
    } catch (error) {
      if (!(error instanceof BatchFormatError) || !idempotent) throw error;
      this.options.log?.warn(`${operation}: ${error.message}; sending again`);
      return { kind: 'answered', answers: units.map(() => undefined), ambiguous: false };
    }

    const answers: ({ kind: 'ok' } | { kind: 'failed'; error: CrmError; operation?: number } | undefined)[] = units.map(
      () => undefined,
    );
    let ambiguous = false;
    const unitOfContentId = new Map<string, { position: number; operation: number }>();
    built.contentIds.forEach((ids, position) =>
      ids.forEach((id, operationIndex) => unitOfContentId.set(id, { position, operation: operationIndex })),
    );
    const failure = (part: BatchPartResponse, position: number) => {
      const target = part.contentId ? unitOfContentId.get(part.contentId) : undefined;
      const at = target?.position ?? position;
      const op = units[at]?.operations[target?.operation ?? 0];
      const where = op ? `${op.method} ${op.path}` : operation;
      return {
        at,
        operation: target?.operation,
        error: parseODataError(part.status, part.body, where),
        attributed: !!target,
      };
    };

    for (let position = 0; position < parsed.length && position < units.length; position++) {
      const item = parsed[position]!;
      const parts = item.kind === 'changeset' ? item.responses : [item.response];
      const failed = parts.find((part) => part.status >= 400);
      if (!failed) {
        if (parts.length > 0) answers[position] = { kind: 'ok' };
        continue;
      }
      if (NOT_PROCESSED_STATUSES.has(failed.status)) break; // throttled inside the batch: send again
      const { at, operation: opIndex, error, attributed } = failure(failed, position);
      // Without a Content-ID, an error as the only answer might belong to any unit D365 processed
      // silently before it: narrow the batch down instead of blaming the first unit.
      if (!attributed && position === 0 && parsed.length === 1 && units.length > 1) {
        ambiguous = true;
        break;
      }
      answers[at] = { kind: 'failed', error, ...(opIndex !== undefined ? { operation: opIndex } : {}) };
      break; // D365 stops at the first error: everything after it is unprocessed.
    }
    return { kind: 'answered', answers, ambiguous };
  }
}
