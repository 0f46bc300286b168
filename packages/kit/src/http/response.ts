/** Response headers as undici gives them: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A successful (2xx) answer, its JSON body parsed. */
export interface HttpResponse<T> {
  status: number;
  headers: ResponseHeaders;
  /** The parsed JSON body; `undefined` for an empty body (204, HEAD). Not validated: check it. */
  body: T;
}
