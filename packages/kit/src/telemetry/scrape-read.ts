/** How long a gauge may wait for the database (or anything else it reads) during a scrape. */
export const scrapeReadTimeoutMs = 1_000;

/**
 * Reads what a gauge shows during a scrape. A dependency that is down or slow must not fail or
 * stall the whole scrape: Prometheus would lose every other metric of the service exactly when
 * they matter, and the service would log the failed scrape as its own failure. So the read has a short deadline, and one that fails leaves the gauge at
 * its last value: readiness and the dependency's own metrics say where the trouble is.
 *
 * @example
 * new Gauge({ name: 'queue_depth', help: '…', async collect() {
 *   await readAtScrape(async (signal) => { this.set(await countQueued(db, { signal })); });
 * } });
 */
export async function readAtScrape(read: (signal: AbortSignal) => Promise<void>): Promise<void> {
  try {
    await read(AbortSignal.timeout(scrapeReadTimeoutMs));
  } catch {
    // Kept as it was: see above.
  }
}
