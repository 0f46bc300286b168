// The storefront's one script, and the pages work without it: it only asks again for an order's
// page while its payment is being taken (the element marked data-refresh-while), puts in the new
// page when the status changes, says the new status in the page's live region (#announcer, so a
// screen reader announces it) and stops when it is final or after a minute. Without it, the page
// has a Refresh link.
const marked = document.querySelector('[data-refresh-while]');
if (marked) {
  const waitingFor = marked.getAttribute('data-refresh-while');
  const startedAt = Date.now();
  const ask = async () => {
    if (Date.now() - startedAt > 60_000) return;
    try {
      const response = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
      if (response.ok) {
        const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
        const still = fresh.querySelector(`[data-refresh-while="${waitingFor}"]`);
        if (!still) {
          const main = fresh.querySelector('main');
          if (main) document.querySelector('main').replaceChildren(...main.childNodes);
          const status = document.querySelector('.order-status');
          const announcer = document.getElementById('announcer');
          if (status && announcer) announcer.textContent = status.textContent;
          return;
        }
      }
    } catch {
      // The shop could not be reached this time; the next ask may find it.
    }
    setTimeout(ask, 2_000);
  };
  setTimeout(ask, 2_000);
}
