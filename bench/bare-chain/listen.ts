import Fastify, { type FastifyInstance } from 'fastify';
import { exitWithTheBench } from './orphan.ts';

/**
 * A Fastify app with no logger and no plugins (the least a JSON service over HTTP needs), on a
 * port of the system's choosing, which it prints as `{"port":N}` for start-bare-chain.ts.
 */
export async function serve(routes: (app: FastifyInstance) => void): Promise<void> {
  const app = Fastify({ logger: false });
  routes(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 }));
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  exitWithTheBench();
}
