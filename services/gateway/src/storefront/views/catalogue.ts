import type { z } from 'zod';
import type { categoryList, product, productPage } from '@baton/contracts/http';
import type { Trouble } from '../trouble.ts';
import { availability, money } from './format.ts';
import { html, type PageContext, type View } from './html.ts';
import { doneNotice, layout, troubleNotice } from './layout.ts';

export type Product = z.output<typeof product>;
type Image = Product['images'][number];

export interface ListPage {
  query: { q?: string | undefined; category?: string | undefined; sort?: string | undefined };
  products: z.output<typeof productPage> | undefined;
  categories: z.output<typeof categoryList>['items'];
  /** The link to the next page, when there is one. */
  nextHref: string | undefined;
  added: string | undefined;
  trouble: Trouble | undefined;
}

const sorts = [['', 'Best match or SKU'], ['name', 'Name'], ['price', 'Price, low to high'], ['-price', 'Price, high to low']] as const;

/** `srcset` of a product image's rendered sizes (WebP, 320, 640 and 1280 wide). */
function srcsetOf(image: Image): string {
  return image.sizes.map((size) => `${size.url} ${size.width}w`).join(', ');
}

function picture(item: Product, image: Image | undefined, sizes: string, alt: string, eager = false): View | '' {
  if (image === undefined) return html`<div class="no-picture" aria-hidden="true"></div>`;
  const smallest = image.sizes[0];
  const height = smallest === undefined ? image.height : smallest.height;
  const width = smallest === undefined ? image.width : smallest.width;
  return html`<img src=${smallest?.url ?? ''} srcset=${srcsetOf(image)} sizes=${sizes} width=${width} height=${height} alt=${alt} loading=${eager ? 'eager' : 'lazy'} />`;
}

function addToCart(item: Product, csrf: string, back: string, withQuantity = false): View {
  const soldOut = item.available <= 0;
  return html`<form class="add" method="post" action="/cart/items">
    <input type="hidden" name="_csrf" value=${csrf} />
    <input type="hidden" name="sku" value=${item.sku} />
    <input type="hidden" name="back" value=${back} />
    ${withQuantity ? html`<label for="quantity">Quantity</label>
      <input id="quantity" name="quantity" type="number" inputmode="numeric" min="1" max=${Math.max(1, Math.min(item.available, 1000))} value="1" required disabled=${soldOut} />`
    : html`<input type="hidden" name="quantity" value="1" />`}
    <button type="submit" disabled=${soldOut}>Add${withQuantity ? '' : html`<span class="visually-hidden"> ${item.name}</span>`} to cart</button>
  </form>`;
}

/** The catalogue: search, category, sort, a page of products with their main picture, and the next page. */
export function listPage(page: PageContext, list: ListPage, back: string): View {
  const heading = list.query.q === undefined ? (list.query.category === undefined ? 'Products' : `Products in ${list.query.category}`) : `Results for “${list.query.q}”`;
  const items = list.products?.items ?? [];
  return layout({ ...page, query: list.query.q }, html`
    <h1>${heading}</h1>
    ${doneNotice(list.added === undefined ? undefined : `Added ${list.added} to your cart.`)}
    ${troubleNotice(list.trouble, html`<p><a class="button" href=${back}>Try again</a></p>`)}
    <form class="filters" method="get" action="/">
      ${list.query.q === undefined ? '' : html`<input type="hidden" name="q" value=${list.query.q} />`}
      <label for="category">Category</label>
      <select id="category" name="category">
        <option value="">All</option>
        ${list.categories.map((c) => html`<option value=${c.name} selected=${c.name === list.query.category}>${c.name} (${c.products})</option>`)}
      </select>
      <label for="sort">Sort by</label>
      <select id="sort" name="sort">
        ${sorts.map(([value, label]) => html`<option value=${value} selected=${(list.query.sort ?? '') === value}>${label}</option>`)}
      </select>
      <button type="submit">Apply</button>
    </form>
    ${list.products === undefined ? '' : items.length === 0 ? html`<p>No products match. <a href="/">See every product</a>.</p>` : html`
      <ul class="products">
        ${items.map((item) => html`<li>
          <article class="product-card">
            <a href=${`/products/${item.sku}`} tabindex="-1" aria-hidden="true">${picture(item, item.images[0], '(max-width: 40em) 100vw, 320px', '')}</a>
            <h2><a href=${`/products/${item.sku}`}>${item.name}</a></h2>
            <p class="price">${money(item.priceCents, item.currency)}</p>
            <p class=${item.available > 0 ? 'stock' : 'stock out'}>${availability(item.available)}</p>
            ${addToCart(item, page.csrf, back)}
          </article>
        </li>`)}
      </ul>`}
    ${list.nextHref === undefined ? '' : html`<p><a class="button" href=${list.nextHref} rel="next">More products</a></p>`}
  `);
}

/** One product: its pictures at every size the screen wants, its words, price and stock, and the cart form. */
export function productView(page: PageContext, item: Product, added: string | undefined): View {
  const [main, ...more] = item.images;
  const here = `/products/${item.sku}`;
  return layout(page, html`
    <article class="product">
      <div class="gallery">
        ${picture(item, main, '(max-width: 40em) 100vw, 640px', `${item.name}`, true)}
        ${more.length === 0 ? '' : html`<ul class="more-pictures">${more.map((image, i) => html`<li>${picture(item, image, '160px', `${item.name}, picture ${i + 2}`)}</li>`)}</ul>`}
      </div>
      <div class="details">
        <h1>${item.name}</h1>
        ${doneNotice(added === undefined ? undefined : `Added to your cart. `)}
        ${added === undefined ? '' : html`<p><a href="/cart">See your cart</a></p>`}
        <p class="price">${money(item.priceCents, item.currency)}</p>
        <p class=${item.available > 0 ? 'stock' : 'stock out'}>${availability(item.available)}</p>
        <p>${item.description}</p>
        <p class="meta">SKU ${item.sku} · <a href=${`/?category=${encodeURIComponent(item.category)}`}>${item.category}</a></p>
        ${addToCart(item, page.csrf, here, true)}
      </div>
    </article>
  `);
}

/** A page that could not be shown at all: why, and the way back or to try again. */
export function troublePage(page: PageContext, heading: string, trouble: Trouble, retryHref?: string): View {
  return layout(page, html`
    <h1>${heading}</h1>
    ${troubleNotice(trouble, retryHref === undefined ? undefined : html`<p><a class="button" href=${retryHref}>Try again</a></p>`)}
    <p><a href="/">Back to the products</a></p>
  `);
}
