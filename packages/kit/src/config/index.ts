export { loadConfig, ConfigError, type ConfigProblem } from './load-config.ts';
export { env } from './fields.ts';
export { databaseConfigFields, serviceConfigFields, type DatabaseConfig, type ServiceConfig } from './service-config.ts';
export { z } from 'zod';
export { serviceIdentityFields, hasIdentity, type IdentityConfig } from './identity-fields.ts';
export { adminPortOffset } from './admin-settings.ts';
