const formats = new Map<string, Intl.NumberFormat>();

/** A price in cents as the shopper reads it: `€12.50`. */
export function money(cents: number, currency: string): string {
  let format = formats.get(currency);
  if (format === undefined) {
    format = new Intl.NumberFormat('en-IE', { style: 'currency', currency });
    formats.set(currency, format);
  }
  return format.format(cents / 100);
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

/** A moment as a person reads it, in UTC (the server does not know the shopper's zone). */
export function when(iso: string): string {
  return `${dateFormat.format(new Date(iso))} UTC`;
}

/** How much of a product is left, in words. */
export function availability(available: number): string {
  if (available <= 0) return 'Out of stock';
  if (available <= 5) return `Only ${available} left`;
  return 'In stock';
}
