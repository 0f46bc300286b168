import type { ComponentChildren } from 'preact';
import type { Trouble } from '../trouble.ts';
import { html, type PageContext, type View } from './html.ts';

/** The frame of every page: a skip link, the header with search, cart and account, and the main part. */
export function layout(page: PageContext, main: ComponentChildren): View {
  return html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>${page.title} · Baton shop</title>
      <link rel="stylesheet" href="/assets/site.css" />
      <script src="/assets/site.js" defer></script>
    </head>
    <body>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/">Baton shop</a>
        <form class="search" role="search" method="get" action="/">
          <label for="search-words">Search products</label>
          <input id="search-words" name="q" type="search" maxlength="200" value=${page.query ?? ''} />
          <button type="submit">Search</button>
        </form>
        <nav aria-label="Account">
          <ul>
            <li><a href="/cart">Cart${page.cartCount > 0 ? html` <span class="count">(${page.cartCount})</span>` : ''}</a></li>
            ${page.signedIn ? html`
              <li><a href="/orders">Orders</a></li>
              <li><a href="/notifications">Notifications</a></li>
              <li>
                <form method="post" action="/sign-out">
                  <input type="hidden" name="_csrf" value=${page.csrf} />
                  <button type="submit" class="link">Sign out</button>
                </form>
              </li>` : html`
              <li><a href="/sign-in">Sign in</a></li>
              <li><a href="/sign-up">Create account</a></li>`}
          </ul>
        </nav>
      </header>
      <main id="main" tabindex="-1">${main}</main>
      <div id="announcer" class="visually-hidden" aria-live="polite"></div>
      <footer class="bottom"><p>Baton: a shop whose network is never treated as a function call. Test cards only; nothing is really charged.</p></footer>
    </body>
  </html>`;
}

/**
 * What went wrong, at the top of a page: announced to screen readers (role=alert), with a
 * button that sends the same thing again when trying again can help (a 503, a timeout).
 */
export function troubleNotice(trouble: Trouble | undefined, retry?: View): View | '' {
  if (trouble === undefined) return '';
  return html`<div class="notice trouble" role="alert">
    <p>${trouble.message}</p>
    ${trouble.unavailable.length > 0 ? html`<ul>${trouble.unavailable.map((line) => html`
      <li>${line.sku}: you asked for ${line.requested}, ${line.available === 0 ? 'none is' : `${line.available} ${line.available === 1 ? 'is' : 'are'}`} left</li>`)}</ul>` : ''}
    ${trouble.retry && retry !== undefined ? retry : ''}
  </div>`;
}

/** Good news after a form (added to cart, order placed), announced politely. */
export function doneNotice(text: string | undefined): View | '' {
  return text === undefined ? '' : html`<div class="notice done" role="status"><p>${text}</p></div>`;
}
