import { generateServiceKeyPair, type ServicePrivateJwk, type ServicePublicJwk } from '@baton/kit/auth';
import { serviceSpecs, type ServiceName } from './services.ts';

/** One service's key pair: its private key for `SERVICE_KEY`, its public key for its callees' `SERVICE_TRUST`. */
export interface ServiceKeyPair {
  privateJwk: ServicePrivateJwk;
  publicJwk: ServicePublicJwk;
}

export type StackKeys = Readonly<Record<ServiceName, ServiceKeyPair>>;

/**
 * A key pair for every service, made in memory at each start of the stack and handed to the
 * services through their environment only: no key is ever written to a file. `given` (tests)
 * supplies some of its own.
 */
export function createStackKeys(given: Partial<Record<ServiceName, ServiceKeyPair>> = {}): StackKeys {
  return Object.fromEntries(serviceSpecs.map(({ name }) => [name, given[name] ?? generateServiceKeyPair(name)])) as unknown as StackKeys;
}

/** The services that call `name`, from the specs' `calls`: whom it must trust. */
export function callersOf(name: ServiceName): ServiceName[] {
  return serviceSpecs.filter((spec) => (spec.calls as readonly string[]).includes(name)).map((spec) => spec.name);
}

/**
 * `SERVICE_KEY` (its own private key) and `SERVICE_TRUST` (the public keys of the services
 * that call it, and no other's) of one service.
 */
export function identityEnvironment(name: ServiceName, keys: StackKeys): { SERVICE_KEY: string; SERVICE_TRUST: string } {
  const trust = Object.fromEntries(callersOf(name).map((caller) => [caller, [keys[caller].publicJwk]]));
  return { SERVICE_KEY: JSON.stringify(keys[name].privateJwk), SERVICE_TRUST: JSON.stringify(trust) };
}
