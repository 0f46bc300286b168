import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { whenAborted } from '../resilience/deadline.ts';
import type { ResponseHeaders } from './response.ts';

/** An answer read to its end, or as far as it was worth reading. */
export interface WholeAnswer {
  ok: true;
  status: number;
  headers: ResponseHeaders;
  /**
   * The body as UTF-8 text, when `keep` said to keep it and it fitted; undefined when it was past
   * the limit (its connection closed) or was read and dropped.
   */
  text: string | undefined;
}

/** No answer: the request failed on the wire, or the signal fired, possibly halfway through a body. */
export interface NoAnswer {
  ok: false;
  thrown: unknown;
  /** The status, when the headers had come before it failed. */
  status: number | undefined;
}

/** What to do with an answer's body, once its status and headers are known. */
export interface BodyPlan {
  /** Kept as text, or read and dropped so the connection can be used again. */
  keep: boolean;
  /** Past this, the connection is closed rather than read further (and a kept body is undefined). */
  limitBytes: number;
}

export interface WholeRequest {
  method: Dispatcher.HttpMethod;
  path: string;
  headers: Record<string, string>;
  body: string | Readable | undefined;
}

// Why a body past its limit was cut: never seen by anyone, the answer is given without its text.
const pastLimit = new Error('the response body is past the limit the client reads');

/**
 * Sends one request on an undici dispatcher and reads its answer whole, as one text, with
 * undici's documented handler API (`dispatcher.dispatch`) rather than `request()`: no Readable
 * stream, async resource or listener per response. That is a sixth more requests a second on
 * loopback than `request()` with its body read by listeners (bench/scenarios/client-overhead.ts,
 * bench/README.md), on the path of every call between services. A body that is streamed on
 * (`stream()`) still takes `request()`.
 *
 * It never rejects: a failure is a `NoAnswer`. Nothing is left behind on any path: a body read to
 * its end hands its connection back to the pool; one past its limit, or cut by `signal`, closes it;
 * a streamed request body is destroyed when the request fails, as `request()` does. A signal that
 * fires before the request reaches a connection ends the wait at once, and the request is then
 * dropped unsent when its turn comes.
 *
 * @example
 * const answer = await requestWhole(pool, { method: 'GET', path: '/v1/products', headers, body: undefined }, signal, () => ({ keep: true, limitBytes: 1 << 20 }));
 * if (answer.ok && answer.text !== undefined) JSON.parse(answer.text);
 */
export function requestWhole(dispatcher: Dispatcher, request: WholeRequest, signal: AbortSignal, planFor: (status: number, headers: ResponseHeaders) => BodyPlan): Promise<WholeAnswer | NoAnswer> {
  if (signal.aborted) return Promise.resolve({ ok: false, thrown: signal.reason, status: undefined });
  return new Promise((resolve) => {
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let status: number | undefined;
    let headers: ResponseHeaders = {};
    let plan: BodyPlan = { keep: false, limitBytes: 0 };
    const chunks: Buffer[] = [];
    let bytes = 0;

    const settle = (result: WholeAnswer | NoAnswer) => {
      if (settled) return;
      settled = true;
      forget();
      resolve(result);
    };
    // The answer as it stands, its body cut: the connection closes and the text is not given.
    const cut = () => {
      settle({ ok: true, status: status as number, headers, text: undefined });
      controller?.abort(pastLimit);
    };
    const forget = whenAborted(signal, () => {
      settle({ ok: false, thrown: signal.reason, status });
      controller?.abort(signal.reason);
    });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (settled) started.abort(signal.aborted ? signal.reason : pastLimit);
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        // An informational answer (100 Continue, 103 Early Hints) comes before the real one.
        if (statusCode < 200 || settled) return;
        status = statusCode;
        headers = responseHeaders as ResponseHeaders;
        plan = planFor(statusCode, headers);
        const declaredBytes = request.method === 'HEAD' ? 0 : Number(headers['content-length']);
        if (declaredBytes > plan.limitBytes) cut();
      },
      onResponseData(_controller, chunk) {
        if (settled) return;
        bytes += chunk.length;
        if (bytes > plan.limitBytes) return cut();
        if (plan.keep) chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled || status === undefined) return;
        const text = !plan.keep ? undefined : chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks, bytes).toString('utf8');
        settle({ ok: true, status, headers, text });
      },
      onResponseError(_controller, error) {
        const { body } = request;
        if (body instanceof Readable && !body.destroyed) {
          // Destroying a stream emits 'error', which would crash a process nobody listens in.
          body.on('error', noop);
          body.destroy(error);
        }
        settle({ ok: false, thrown: error, status });
      },
    };
    dispatcher.dispatch({ method: request.method, path: request.path, headers: request.headers, body: request.body ?? null }, handler);
  });
}

function noop(): void {}
