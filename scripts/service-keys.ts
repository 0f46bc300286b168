// Prints, as shell lines, a workload identity for running one Baton service by hand: its own
// key (SERVICE_KEY), a new key for each service that calls it, trusted in SERVICE_TRUST, and a
// service token from each of those callers (SERVICE_TOKEN_FROM_<CALLER>, valid five minutes) to
// call it with curl. `npm start` needs none of this: the runner makes keys for every service.
//
// Usage: eval "$(npx node scripts/service-keys.ts inventory)"
import { createPrivateKey } from 'node:crypto';
import { generateServiceKeyPair, mintServiceToken, serviceTokenLifetimeSeconds } from '@baton/kit/auth';
import { callersOf, serviceNames, type ServiceName } from '@baton/runner';

const service = process.argv[2];
if (service === undefined || !(serviceNames as readonly string[]).includes(service)) {
  process.stderr.write(`usage: node scripts/service-keys.ts <${serviceNames.join('|')}>\n`);
  process.exit(64);
}

const name = service as ServiceName;
const own = generateServiceKeyPair(name);
const callers = callersOf(name).map((caller) => ({ caller, keys: generateServiceKeyPair(caller) }));
const trust = Object.fromEntries(callers.map(({ caller, keys }) => [caller, [keys.publicJwk]]));
const issuedAtSeconds = Math.floor(Date.now() / 1000);

// JWKs hold no single quote, so single quotes keep them whole in any POSIX shell.
const lines = [`export SERVICE_KEY='${JSON.stringify(own.privateJwk)}'`, `export SERVICE_TRUST='${JSON.stringify(trust)}'`];
for (const { caller, keys } of callers) {
  const { kty, crv, x, d } = keys.privateJwk;
  const token = await mintServiceToken({
    service: caller,
    key: { kid: keys.privateJwk.kid, privateKey: createPrivateKey({ key: { kty, crv, x, d }, format: 'jwk' }) },
    audience: name,
    issuedAtSeconds,
    lifetimeSeconds: serviceTokenLifetimeSeconds,
  });
  lines.push(`export SERVICE_TOKEN_FROM_${caller.toUpperCase()}='${token}'`);
}
process.stdout.write(`${lines.join('\n')}\n`);
