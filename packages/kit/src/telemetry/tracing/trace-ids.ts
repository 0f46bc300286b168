import { RandomIdGenerator } from '@opentelemetry/sdk-trace';

/**
 * The kit's one maker of trace and span ids where no SDK tracer makes them: the propagating
 * tracer's new roots and an event's own span id. OpenTelemetry's generator (not a secret: unique
 * enough to tell traces apart), rather than crypto's randomBytes, whose call and buffer per id
 * were most of the cost of each event an order writes (bench/profile/folded-shares.ts).
 */
export const traceIds = new RandomIdGenerator();
