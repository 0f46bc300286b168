import { html } from 'htm/preact';

/**
 * The pages are Preact components written with htm's tagged templates: plain TypeScript, no
 * build step, and every value is escaped when rendered. docs/web.md says why this stack.
 */
export { html };
export type View = ReturnType<typeof html>;

/** What every page's frame needs to know about the request. */
export interface PageContext {
  title: string;
  signedIn: boolean;
  cartCount: number;
  /** The form token every post carries (the sign-out button is on every page). */
  csrf: string;
  /** The search words, kept in the header's search box. */
  query?: string;
}
