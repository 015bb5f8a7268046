// The console's address bar: `#/<view>[/<id>][?params]`, so every view and selection can be bookmarked and shared.

export interface Route {
  readonly view: string;
  /** The selected item (channel name, IOC id), decoded; null when none. */
  readonly id: string | null;
  readonly params: URLSearchParams;
}

export function route(hash: string = location.hash): Route {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const slash = path.indexOf('/');
  const view = slash < 0 ? path : path.slice(0, slash);
  const id = slash < 0 ? null : decodeURIComponent(path.slice(slash + 1));
  return { view: view === '' ? 'channels' : view, id: id === '' ? null : id, params };
}

export function href(view: string, id: string | null = null, params: Record<string, string> = {}): string {
  const p = new URLSearchParams(params).toString();
  return `#/${view}${id === null ? '' : `/${encodeURIComponent(id)}`}${p === '' ? '' : `?${p}`}`;
}
