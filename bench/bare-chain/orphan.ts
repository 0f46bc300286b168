/**
 * Ends this bare process when the bench that started it is gone (its channel closes): each runs
 * in a session of its own (start-bare-chain.ts), so nothing else would end it. Baton's services
 * do the same through the kit (the runner's orphan policy).
 */
export function exitWithTheBench(): void {
  process.channel?.unref();
  process.once('disconnect', () => process.exit(1));
}
