/**
 * Attribute names of the OpenTelemetry semantic conventions that are still "incubating": the
 * conventions package asks users to copy these rather than import them, since they may change.
 * The stable ones are imported from `@opentelemetry/semantic-conventions` where they are used.
 */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_RPC_SYSTEM = 'rpc.system';
export const ATTR_RPC_SERVICE = 'rpc.service';
export const ATTR_RPC_RESPONSE_STATUS_CODE = 'rpc.response.status_code';

/** Baton's own, for what the conventions have no name for: the decisions of the call policies. */
export const ATTR_BATON_UPSTREAM = 'baton.upstream';
export const ATTR_BATON_HEDGE = 'baton.hedge';
export const ATTR_BATON_ERROR_CODE = 'baton.error.code';
export const ATTR_BATON_DEADLINE_MS = 'baton.deadline_ms';
/** On a transaction's span: how many statements it ran (they have no spans of their own unless `TRACE_DB_STATEMENTS`). */
export const ATTR_BATON_DB_STATEMENTS = 'baton.db.statements';
