import type { Trouble } from '../trouble.ts';
import { html, type PageContext, type View } from './html.ts';
import { layout, troubleNotice } from './layout.ts';

interface Field {
  name: string;
  label: string;
  type: string;
  autocomplete: string;
  value?: string;
  hint?: string;
}

/** A labelled field; a wrong one says why next to it, tied to it for screen readers (aria-describedby). */
function field(f: Field, trouble: Trouble | undefined): View {
  const error = trouble?.fields[f.name];
  const described = [f.hint === undefined ? '' : `${f.name}-hint`, error === undefined ? '' : `${f.name}-error`].filter(Boolean).join(' ');
  return html`<div class="field">
    <label for=${f.name}>${f.label}</label>
    ${f.hint === undefined ? '' : html`<p class="hint" id=${`${f.name}-hint`}>${f.hint}</p>`}
    ${error === undefined ? '' : html`<p class="field-error" id=${`${f.name}-error`}>${error}</p>`}
    <input id=${f.name} name=${f.name} type=${f.type} autocomplete=${f.autocomplete} value=${f.value ?? ''} required
      aria-invalid=${error === undefined ? undefined : 'true'} aria-describedby=${described === '' ? undefined : described} />
  </div>`;
}

export function signInPage(page: PageContext, form: { email: string; next: string; trouble: Trouble | undefined }): View {
  return layout(page, html`
    <h1>Sign in</h1>
    ${troubleNotice(form.trouble, html`<p>Send the form again below.</p>`)}
    <form method="post" action="/sign-in" class="account">
      <input type="hidden" name="_csrf" value=${page.csrf} />
      <input type="hidden" name="next" value=${form.next} />
      ${field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username', value: form.email }, form.trouble)}
      ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' }, form.trouble)}
      <button type="submit" class="primary">Sign in</button>
    </form>
    <p>New here? <a href=${`/sign-up?next=${encodeURIComponent(form.next)}`}>Create an account</a>.</p>
  `);
}

export function signUpPage(page: PageContext, form: { name: string; email: string; next: string; trouble: Trouble | undefined }): View {
  return layout(page, html`
    <h1>Create an account</h1>
    ${troubleNotice(form.trouble, html`<p>Send the form again below.</p>`)}
    <form method="post" action="/sign-up" class="account">
      <input type="hidden" name="_csrf" value=${page.csrf} />
      <input type="hidden" name="next" value=${form.next} />
      ${field({ name: 'name', label: 'Your name', type: 'text', autocomplete: 'name', value: form.name }, form.trouble)}
      ${field({ name: 'email', label: 'Email', type: 'email', autocomplete: 'email', value: form.email }, form.trouble)}
      ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: 'At least 8 characters; a phrase of a few words is good.' }, form.trouble)}
      <button type="submit" class="primary">Create account</button>
    </form>
    <p>Have an account? <a href=${`/sign-in?next=${encodeURIComponent(form.next)}`}>Sign in</a>.</p>
  `);
}
