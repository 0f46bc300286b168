import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { Code, KitError } from '../errors/index.ts';
import { type Clock, timeoutHeader } from '../resilience/index.ts';
import { formatBudget, whenAborted } from '../resilience/deadline.ts';
import type { HttpMethod } from './idempotency.ts';
import { readText } from './read-body.ts';
import { errorFromResponse, isProblemResponse } from './response-error.ts';
import type { HttpResponse, ResponseHeaders } from './response.ts';
import { errorFromTransport } from './transport-error.ts';
import { requestWhole } from './whole-answer.ts';
import { classifyAs } from '../upstream/failures.ts';
import { UpstreamError } from '../upstream/upstream-error.ts';

/** A request ready to go on the wire; the same object serves every attempt of one call. */
export interface PreparedRequest {
  method: HttpMethod;
  /** The path with its query string. */
  path: string;
  headers: Readonly<Record<string, string>>;
  /**
   * JSON or form text, which every attempt sends again; or a stream, sent as it arrives by the
   * one attempt its call makes (undici reads it once, and destroys it when that attempt fails).
   */
  body: string | Readable | undefined;
  /** When the call must be over, on the client's clock; each attempt sends what is left of it. */
  deadlineAtMs: number;
}

/**
 * How one attempt ended. `status` failures are answers (the instance is up); `transport`
 * failures never got one; `aborted` means this side gave up (deadline, caller, hedge), which
 * says nothing about the instance; `bad_response` is a 2xx whose body was not usable.
 */
export type AttemptFailure = 'status' | 'transport' | 'aborted' | 'bad_response';

export type AttemptResult<R> =
  | {
    ok: true;
    response: R;
    status: number;
    /** The body, when the answer handed it on unread: the attempt is over when it closes. */
    body?: Readable | undefined;
  }
  | { ok: false; error: KitError; failure: AttemptFailure; status: number | undefined };

/** An answer whose status the call accepts, its body not yet read. */
export interface Answer {
  method: HttpMethod;
  status: number;
  headers: ResponseHeaders;
  body: Readable;
}

/** An answer whose status the call accepts, its body read whole (undefined when past `maxBytes`). */
export interface WholeAnswerText {
  status: number;
  headers: ResponseHeaders;
  text: string | undefined;
}

/**
 * What a call makes of an answer: which statuses it accepts (any other is an error, its problem
 * document read), and how it reads one it accepts. `request()` reads it whole and parses it as
 * JSON (`createJsonAnswers`, a `whole` reader); `stream()` hands the body on unread
 * (`streamedAnswers`, a `stream` reader). A result that carries `body` keeps it alive; any other
 * leaves the attempt to consume or destroy it.
 */
export type AnswerReader<R> = WholeAnswerReader<R> | StreamedAnswerReader<R>;

export interface WholeAnswerReader<R> {
  kind: 'whole';
  accepts(status: number): boolean;
  /** Past this, the answer is not read: its connection closes and `parse` is given no text. */
  maxBytes: number;
  parse(answer: WholeAnswerText, context: AttemptContext): AttemptResult<R>;
}

export interface StreamedAnswerReader<R> {
  kind: 'stream';
  accepts(status: number): boolean;
  read(answer: Answer, context: AttemptContext): Promise<AttemptResult<R>>;
}

export interface AttemptContext {
  upstream: string;
  instance: string;
  clock: Clock;
  /** Headers of this attempt alone (its `traceparent`), added to the call's. */
  extraHeaders?: Readonly<Record<string, string>> | undefined;
  /**
   * An upstream outside Baton: it is not sent the remaining budget, and its errors are read
   * when they are JSON of its own shape (Stripe's `{ "error": … }`), not only problem documents,
   * for the caller to find in the error's cause.
   */
  outside?: boolean;
}

// An error body is read only to learn its problem document; past this it is not worth a socket.
const errorBodyLimitBytes = 64 * 1024;

function noop(): void {}

/**
 * Sends one request to one instance and reads its answer as the call's `AnswerReader` says. It
 * never throws: every ending is a result, so the client can account for the instance before
 * deciding anything.
 *
 * The response body is consumed or destroyed on every path (an accepted answer read whole, an
 * error status, bad JSON, a body too large, an abort halfway through the body), unless the
 * reader hands it on (`stream()`), and then it is its caller's to end: a body left unread would
 * hold its connection out of the pool for good, and enough of them would stall every call.
 *
 * @example
 * const result = await sendAttempt(pool, prepared, createJsonAnswers(maxResponseBytes), signal, { upstream: 'catalog', instance, clock });
 * if (!result.ok) throw result.error;
 */
export async function sendAttempt<R>(dispatcher: Dispatcher, request: PreparedRequest, answers: AnswerReader<R>, signal: AbortSignal, context: AttemptContext): Promise<AttemptResult<R>> {
  const { upstream, instance, clock, extraHeaders, outside = false } = context;
  if (signal.aborted) return { ok: false, ...errorFromTransport(undefined, signal, upstream, instance), status: undefined };
  // The budget goes as a relative number, computed just before sending, so the next hop's clock
  // never has to agree with ours and the time spent queueing here is not given away twice.
  const headers = outside
    ? { ...request.headers, ...extraHeaders }
    : { ...request.headers, ...extraHeaders, [timeoutHeader]: formatBudget(request.deadlineAtMs - clock.now()) };

  if (answers.kind === 'whole') return sendAndReadWhole(dispatcher, request, answers, headers, signal, context);

  // undici takes any EventEmitter that emits 'abort' as a request's signal (its documented
  // `signal: AbortSignal | EventEmitter`). Given the AbortSignal itself, undici listens through
  // Node's addAbortListener for every request, ~6% more CPU per request than with the emitter
  // (median of six paired runs, bench/README.md, "Library internals"); the attempt's signal is
  // heard through `whenAborted` instead (a Set add and delete for the kit's own signals). What
  // undici throws when it fires does not matter: errorFromTransport asks the signal why. A body
  // handed on is no longer heard here once the attempt is over: `stream()` follows it itself.
  const abort = new EventEmitter();
  const forget = whenAborted(signal, () => abort.emit('abort'));
  try {
    return await sendAndRead(dispatcher, request, answers, headers, signal, abort, context);
  } finally {
    forget();
  }
}

// An answer read whole (`request()`): its body text, or its problem document, in one pass.
async function sendAndReadWhole<R>(dispatcher: Dispatcher, request: PreparedRequest, answers: WholeAnswerReader<R>, headers: Record<string, string>, signal: AbortSignal, context: AttemptContext): Promise<AttemptResult<R>> {
  const { upstream, instance, outside = false } = context;
  const answer = await requestWhole(dispatcher, { method: request.method, path: request.path, headers, body: request.body }, signal, (status, responseHeaders) => {
    if (answers.accepts(status)) return { keep: true, limitBytes: answers.maxBytes };
    return { keep: isProblemResponse(responseHeaders) || (outside && isJsonResponse(responseHeaders)), limitBytes: errorBodyLimitBytes };
  });
  if (!answer.ok) return { ok: false, ...errorFromTransport(answer.thrown, signal, upstream, instance), status: answer.status };
  const { status, headers: responseHeaders, text } = answer;
  if (answers.accepts(status)) return answers.parse({ status, headers: responseHeaders, text }, context);
  const problem = text === undefined ? undefined : parseOrUndefined(text);
  return { ok: false, error: errorFromResponse({ upstream, instance, status, headers: responseHeaders, problem }), failure: 'status', status };
}

async function sendAndRead<R>(dispatcher: Dispatcher, request: PreparedRequest, answers: StreamedAnswerReader<R>, headers: Record<string, string>, signal: AbortSignal, abort: EventEmitter, context: AttemptContext): Promise<AttemptResult<R>> {
  const { upstream, instance } = context;
  let data: Dispatcher.ResponseData;
  try {
    data = await dispatcher.request({ method: request.method, path: request.path, headers, body: request.body ?? null, signal: abort });
  } catch (thrown) {
    return { ok: false, ...errorFromTransport(thrown, signal, upstream, instance), status: undefined };
  }

  const { statusCode: status, headers: responseHeaders, body } = data;
  // Destroying a body emits 'error'; nobody else listens, and an unheard 'error' would crash.
  body.on('error', noop);
  let handedOn = false;
  try {
    if (answers.accepts(status)) {
      const result = await answers.read({ method: request.method, status, headers: responseHeaders, body }, context);
      handedOn = result.ok && result.body !== undefined;
      return result;
    }

    let problem: unknown;
    if (isProblemResponse(responseHeaders) || (context.outside === true && isJsonResponse(responseHeaders))) {
      const text = await readText(body, errorBodyLimitBytes);
      problem = text === undefined ? undefined : parseOrUndefined(text);
    } else {
      // Read and dropped, so the connection goes back to the pool; a huge one is cut instead.
      await body.dump({ limit: errorBodyLimitBytes, signal });
    }
    if (signal.aborted) return { ok: false, ...errorFromTransport(undefined, signal, upstream, instance), status };
    return { ok: false, error: errorFromResponse({ upstream, instance, status, headers: responseHeaders, problem }), failure: 'status', status };
  } catch (thrown) {
    // The connection failed or the signal fired while the body was still arriving.
    return { ok: false, ...errorFromTransport(thrown, signal, upstream, instance), status };
  } finally {
    // Destroying a body that was read to its end is a no-op; one that was not closes its socket.
    if (!handedOn && !body.destroyed) body.destroy();
  }
}

/**
 * What `request()` makes of an answer: a 2xx, its body read whole (never past
 * `maxResponseBytes`) and parsed as JSON. Made once per client.
 *
 * @example
 * const json = createJsonAnswers(4 * 1024 * 1024);
 */
export function createJsonAnswers(maxResponseBytes: number): WholeAnswerReader<HttpResponse<unknown>> {
  return {
    kind: 'whole',
    accepts: (status) => status >= 200 && status < 300,
    maxBytes: maxResponseBytes,
    parse({ status, headers, text }, { upstream, instance }) {
      if (text === undefined) return badResponse(upstream, instance, status, 'the body is larger than the client accepts');
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch (thrown) {
        return badResponse(upstream, instance, status, 'the body is not valid JSON', thrown);
      }
      return { ok: true, response: { status, headers, body: parsed }, status };
    },
  };
}

function badResponse(upstream: string, instance: string, status: number, why: string, cause?: unknown): AttemptResult<never> {
  const error = new KitError(Code.Internal, 'a dependency sent a response that could not be read', {
    reason: 'bad_response',
    cause: new UpstreamError(upstream, instance, `answered ${status}, but ${why}`, { status, cause }),
  });
  return { ok: false, error: classifyAs(error, 'bad_response'), failure: 'bad_response', status };
}

function isJsonResponse(headers: ResponseHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('application/json');
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
