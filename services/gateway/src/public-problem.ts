import { publicCodeOf, publicErrors } from '@baton/contracts/http';
import type { ProblemPresenter } from '@baton/kit/service';

// The members of a problem a client of the shop may see: RFC 9457's, the code, the request id,
// the field errors, the hop whose deadline ran out (a 504 says where the time went), and the
// few a service adds for the client (which products are short, which do not exist, what stock
// there is). Anything else a service put in (the internal reason, a retry marker) stays inside.
const publicMembers = new Set(['instance', 'request_id', 'errors', 'hop', 'unavailable', 'unknown', 'sku', 'stock']);

/**
 * The gateway's problem documents, in the public API's words (contracts/http/public-errors.ts):
 * `code` from the catalogue, for what the kit's code and reason mean to a shopper; `title` the
 * code's sentence; `detail` what the service said of this request. The status is the kit's.
 */
export const presentPublicProblem: ProblemPresenter = (problem) => {
  const code = publicCodeOf(problem.code, problem.reason);
  const extensions = Object.fromEntries(Object.entries(problem).filter(([member]) => publicMembers.has(member)));
  return { type: `urn:baton:problem:${code}`, title: publicErrors[code].title, status: problem.status, detail: problem.detail, code, ...extensions };
};
