import { Code, KitError } from '@baton/kit/errors';
import { UpstreamError } from '@baton/kit/http';

/**
 * Inventory names the SKUs that lacked stock in its error detail; the kit's client keeps an
 * upstream's details out of the caller's error (they could say anything), so orders copies the
 * one list it knows to be safe into its own answer, as the HTTP implementation does.
 */
export function withOutOfStockDetails(error: KitError): KitError {
  if (error.code !== Code.Aborted || error.reason !== 'out_of_stock' || !(error.cause instanceof UpstreamError)) return error;
  const received = error.cause.received as { unavailable?: unknown } | undefined;
  const unavailable = Array.isArray(received?.unavailable)
    ? received.unavailable.flatMap((line: unknown) => {
      const l = line as { sku?: unknown; requested?: unknown; available?: unknown };
      return typeof l.sku === 'string' && typeof l.requested === 'number' && typeof l.available === 'number'
        ? [{ sku: l.sku, requested: l.requested, available: l.available }] : [];
    })
    : [];
  const skus = unavailable.map((line) => line.sku).join(', ');
  return new KitError(Code.Aborted, skus ? `out of stock: ${skus}` : error.message, {
    reason: 'out_of_stock', details: { unavailable }, cause: error,
  });
}
