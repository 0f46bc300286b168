import type { Readable } from 'node:stream';

/** Response headers as undici gives them: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A successful (2xx) answer, its JSON body parsed. */
export interface HttpResponse<T> {
  status: number;
  headers: ResponseHeaders;
  /** The parsed JSON body; `undefined` for an empty body (204, HEAD). Not validated: check it. */
  body: T;
}

/**
 * An answer `stream()` accepted (a 2xx, or a status the caller listed), its body not read.
 *
 * The body is the caller's to read to its end (its connection then goes back to the pool) or to
 * destroy (its connection is closed). Pipe it with `stream.pipeline`, which hears its errors and
 * destroys it when the destination fails. The call's deadline and signal still cover it: when
 * either fires before the body's end, the body is destroyed with the call's KitError
 * (`deadline_exceeded`, or the caller's reason). A connection that fails mid-body destroys it
 * with the transport's error.
 */
export interface StreamedResponse {
  status: number;
  headers: ResponseHeaders;
  body: Readable;
}
