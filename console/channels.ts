// Channels: a ChannelFinder query, one page of results at a time (the browser never holds more than a page, however
// many match), paged with ~search_after (no ceiling), kept live by the watch stream; one channel's details beside.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { get, prop, queryString, type CfChannel, type Conflict } from './api.js';
import { href } from './route.js';

export const PAGE = 100;

interface Page { rows: CfChannel[]; more: boolean }

/** The watch stream of a query: calls back with each change (channels that match now, names removed) and resets. */
function useWatch(qs: string, onChange: (channels: CfChannel[], removed: string[]) => void, onReset: () => void): string {
  const [state, setState] = useState('connecting');
  const cb = useRef({ onChange, onReset });
  cb.current = { onChange, onReset };
  useEffect(() => {
    const es = new EventSource(`/api/v1/watch?${qs}`);
    es.addEventListener('open', () => setState('live'));
    es.addEventListener('error', () => setState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
    es.addEventListener('change', (ev) => {
      const d = JSON.parse((ev as MessageEvent<string>).data) as { channels: CfChannel[]; removed: string[] };
      cb.current.onChange(d.channels, d.removed);
    });
    es.addEventListener('reset', () => cb.current.onReset());
    return () => es.close();
  }, [qs]);
  return state;
}

function Status(props: { value: string }) {
  const v = props.value;
  return html`<span class=${v === 'Active' ? 'badge ok' : v === '' ? '' : 'badge bad'}>${v}</span>`;
}

export function ChannelsView(props: { query: string; selected: string | null }) {
  const [text, setText] = useState(props.query);
  const qs = queryString(props.query);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState('');
  const [news, setNews] = useState('');
  const [reload, setReload] = useState(0);
  const [removedNames, setRemoved] = useState<ReadonlySet<string>>(new Set());
  const after = cursors.at(-1) ?? null;

  useEffect(() => { setText(props.query); setCursors([null]); }, [props.query]);
  useEffect(() => {
    const ac = new AbortController();
    const sa = after === null ? '' : `&~search_after=${encodeURIComponent(after)}`;
    setError('');
    get<CfChannel[]>(`/ChannelFinder/resources/channels?${qs}&~size=${PAGE + 1}${sa}`, ac.signal).then((list) => {
      setPage({ rows: list.slice(0, PAGE), more: list.length > PAGE });
      setRemoved(new Set());
    }, (err: Error) => { if (!ac.signal.aborted) setError(err.message); });
    get<number>(`/ChannelFinder/resources/channels/count?${qs}`, ac.signal).then(setTotal, () => undefined);
    return () => ac.abort();
  }, [qs, after, reload]);

  const live = useWatch(qs, (channels, removed) => {
    setPage((p) => {
      if (p === null) return p;
      const byName = new Map(channels.map((c) => [c.name, c]));
      const gone = new Set(removed);
      const changed: string[] = [];
      const rows = p.rows.map((r) => {
        const c = byName.get(r.name);
        if (c === undefined) return r;
        if (prop(c, 'pvStatus') !== prop(r, 'pvStatus')) changed.push(`${c.name} is now ${prop(c, 'pvStatus') || 'without status'}`);
        return c;
      });
      const removedHere = rows.filter((r) => gone.has(r.name)).length;
      const outside = channels.filter((c) => !p.rows.some((r) => r.name === c.name)).length;
      const parts = [
        ...(changed.length <= 3 ? changed : [`${changed.length} channels on this page changed status`]),
        ...(removedHere > 0 ? [`${removedHere} channels on this page no longer match`] : []),
        ...(outside > 0 ? [`${outside} matching channels changed elsewhere (refresh to see them)`] : []),
      ];
      if (parts.length > 0) setNews(parts.join('; '));
      setRemoved((prev) => {
        const next = new Set([...prev].filter((n) => !byName.has(n)));
        for (const n of gone) if (p.rows.some((r) => r.name === n)) next.add(n);
        return next;
      });
      return { ...p, rows };
    });
  }, () => setReload((n) => n + 1));

  const submit = (ev: Event): void => {
    ev.preventDefault();
    location.hash = href('channels', null, text.trim() === '' ? {} : { q: text.trim() });
  };
  const from = (cursors.length - 1) * PAGE;
  const rows = page?.rows ?? [];
  return html`<div class="split">
    <section aria-labelledby="h-channels" class="list">
      <h2 id="h-channels">Channels</h2>
      <form role="search" onSubmit=${submit} class="search">
        <label for="q">Query</label>
        <input id="q" name="q" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
          placeholder="SR01:* or ~name=SR*&pvStatus=Inactive&~tag=golden" aria-describedby="q-help" spellcheck=${false} />
        <button type="submit">Search</button>
        <p id="q-help" class="help">A name pattern (<code>*</code>, <code>?</code>, <code>|</code> between alternatives),
          or ChannelFinder query parameters: <code>~name=</code>, <code>~tag=</code>, <code>property=value</code>, joined with <code>${'&'}</code>.</p>
      </form>
      <p aria-live="polite" class="summary" id="result-summary">${error !== '' ? html`<span class="bad" role="alert">${error}</span>`
        : page === null ? 'Loading…'
        : rows.length === 0 ? 'No channel matches.'
        : `Channels ${(from + 1).toLocaleString('en')}–${(from + rows.length).toLocaleString('en')}${total === null ? '' : ` of ${total.toLocaleString('en')}`}`}
        <span class=${`state-${live}`} title="Live updates from the watch stream">${live === 'live' ? ' · live'
          : live === 'closed' ? ' · live updates unavailable' : ` · live updates ${live}`}</span></p>
      <p aria-live="polite" class="news" id="live-news">${news}</p>
      <nav aria-label="Result pages" class="pager">
        <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors([null])}>First page</button>
        <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
        <button type="button" disabled=${page?.more !== true} onClick=${() => setCursors([...cursors, rows.at(-1)?.name ?? null])}>Next page</button>
        <button type="button" onClick=${() => setReload(reload + 1)}>Refresh</button>
      </nav>
      <table class="grid" aria-describedby="result-summary">
        <caption class="sr-only">Matching channels, by name</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">IOC</th><th scope="col">Type</th><th scope="col">Description</th></tr></thead>
        <tbody>${rows.map((c) => {
          const removed = removedNames.has(c.name);
          return html`<tr key=${c.name} class=${`${prop(c, 'pvStatus') === 'Inactive' ? 'dead' : ''} ${removed ? 'removed' : ''} ${props.selected === c.name ? 'selected' : ''}`}
              data-channel=${c.name}>
            <th scope="row"><a href=${href('channels', c.name, props.query === '' ? {} : { q: props.query })}
              aria-current=${props.selected === c.name ? 'true' : undefined}>${c.name}</a>${removed ? html` <em>(no longer matches)</em>` : null}</th>
            <td><${Status} value=${prop(c, 'pvStatus')} /></td>
            <td>${prop(c, 'iocid') === '' ? '' : html`<a href=${href('iocs', prop(c, 'iocid'))}>${prop(c, 'iocid')}</a>`}</td>
            <td>${prop(c, 'recordType')}</td>
            <td>${prop(c, 'recordDesc')}</td>
          </tr>`;
        })}</tbody>
      </table>
    </section>
    ${props.selected === null ? null : html`<${ChannelDetail} name=${props.selected}
      live=${removedNames.has(props.selected) ? undefined : rows.find((r) => r.name === props.selected)} />`}
  </div>`;
}

function ChannelDetail(props: { name: string; live: CfChannel | undefined }) {
  const [c, setC] = useState<CfChannel | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [error, setError] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const ac = new AbortController();
    setC(null);
    setError('');
    get<CfChannel>(`/ChannelFinder/resources/channels/${encodeURIComponent(props.name)}`, ac.signal).then(setC, (e: Error) => setError(e.message));
    get<{ conflicts: Conflict[] }>('/api/v1/conflicts', ac.signal).then((r) => setConflict(r.conflicts.find((x) => x.name === props.name) ?? null), () => undefined);
    heading.current?.focus();
    return () => ac.abort();
  }, [props.name]);
  // The page's copy of the channel follows the watch stream: prefer it.
  const ch = props.live ?? c;
  const file = ch === null ? '' : prop(ch, 'recordFile');
  const line = ch === null ? '' : prop(ch, 'recordLine');
  return html`<section aria-labelledby="h-detail" class="detail">
    <h2 id="h-detail" tabIndex="-1" ref=${heading}>${props.name}</h2>
    ${error !== '' ? html`<p role="alert" class="bad">${error}</p>` : ch === null ? html`<p>Loading…</p>` : html`
      <dl class="facts">
        <dt>Status</dt><dd><${Status} value=${prop(ch, 'pvStatus')} /></dd>
        <dt>Served by</dt><dd>${prop(ch, 'iocid') === '' ? 'no IOC (written through the API)' : html`<a href=${href('iocs', prop(ch, 'iocid'))}>${prop(ch, 'iocid')}</a>`}</dd>
        <dt>Defined in</dt><dd>${file === '' ? 'not known' : html`<code>${file}${line === '' ? '' : `:${line}`}</code>`}</dd>
        <dt>Owner</dt><dd>${ch.owner}</dd>
        <dt>Conflict</dt><dd>${conflict === null ? 'none' : html`<span class="badge bad">served by ${conflict.iocIds.length} live IOCs</span>
          ${conflict.iocIds.map((id) => html` <a href=${href('iocs', id)}>${id}</a>`)} (the latest upload wins)`}</dd>
      </dl>
      <h3>Properties</h3>
      <table class="grid compact"><caption class="sr-only">Properties of ${props.name}</caption>
        <thead><tr><th scope="col">Property</th><th scope="col">Value</th><th scope="col">Owner</th></tr></thead>
        <tbody>${ch.properties.map((p) => html`<tr key=${p.name}><th scope="row">${p.name}</th><td>${p.value}</td><td>${p.owner}</td></tr>`)}</tbody>
      </table>
      <h3>Tags</h3>
      ${ch.tags.length === 0 ? html`<p>No tags.</p>` : html`<ul class="tags">${ch.tags.map((t) => html`<li key=${t.name}>${t.name} <small>(${t.owner})</small></li>`)}</ul>`}
    `}
  </section>`;
}
