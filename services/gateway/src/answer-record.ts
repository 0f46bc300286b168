import { createWriteStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/**
 * With ANSWER_RECORD_FILE set, the gateway appends a line `METHOD /route status` the first time
 * it answers a public API route with a status. `npm test` sets it for every gateway it runs and
 * checks at the end that each status the suite saw is one the OpenAPI document lists for that
 * operation (test/openapi-statuses.ts). Unset, as in any deployment, nothing is installed.
 * A request whose caller left before the answer was sent is not an answer, and is not written.
 */
export function installAnswerRecord(app: FastifyInstance, file: string): void {
  const seen = new Set<string>();
  // One append-mode stream per process: each line is one write at the file's end, so the
  // processes of a test run can share the file.
  const out = createWriteStream(file, { flags: 'a' });
  app.addHook('onResponse', function recordAnswer(request, reply, done) {
    const route = request.routeOptions.url;
    if (route?.startsWith('/api/v1/') && !route.startsWith('/api/v1/docs') && reply.raw.writableFinished) {
      const line = `${request.method} ${route} ${reply.statusCode}`;
      if (!seen.has(line)) {
        seen.add(line);
        out.write(`${line}\n`);
      }
    }
    done();
  });
  app.addHook('onClose', function closeAnswerRecord(_app, done) { out.end(done); });
}
