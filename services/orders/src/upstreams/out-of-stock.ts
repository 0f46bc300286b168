import { Code, KitError } from '@baton/kit/errors';
import { UpstreamError } from '@baton/kit/http';

/**
 * Inventory names the SKUs that lacked stock, or that it does not have, in its error detail; the
 * kit's client keeps an upstream's details out of the caller's error (they could say anything),
 * so orders copies the lists it knows to be safe into its own answer, checked, as the HTTP
 * implementation does.
 */
export function withOutOfStockDetails(error: KitError): KitError {
  if (!(error.cause instanceof UpstreamError)) return error;
  const received = error.cause.received as { unavailable?: unknown; unknown?: unknown } | undefined;
  if (error.code === Code.NotFound && error.reason === 'unknown_sku') {
    const unknown = Array.isArray(received?.unknown) ? received.unknown.filter((sku: unknown): sku is string => typeof sku === 'string') : [];
    return new KitError(Code.NotFound, error.message, { reason: 'unknown_sku', details: { unknown }, cause: error });
  }
  if (error.code !== Code.Aborted || error.reason !== 'out_of_stock') return error;
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

/**
 * An order's unknown products, named by their lines as the caller sent them: `unknown_product`,
 * with a field error for each (`body.items[1].sku`), so a client can mark the very line.
 */
export function withUnknownProductLines(error: KitError, lines: ReadonlyArray<{ sku: string }>): KitError {
  if (error.code !== Code.NotFound || error.reason !== 'unknown_sku') return error;
  const unknown = Array.isArray(error.details.unknown) ? error.details.unknown.filter((sku): sku is string => typeof sku === 'string') : [];
  const fields = lines.flatMap((line, index) => (unknown.includes(line.sku) ? [{ field: `body.items[${index}].sku`, message: `no such product: ${line.sku}` }] : []));
  return new KitError(Code.NotFound, unknown.length === 0 ? 'an order line names a product the shop does not have' : `no such product: ${unknown.join(', ')}`, {
    reason: 'unknown_product', details: { unknown }, fields, cause: error,
  });
}
