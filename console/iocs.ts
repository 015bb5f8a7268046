// IOCs: every IOC with its status, host, record count, last upload and configuration errors (dead IOCs and names
// used by two IOCs stand out), refreshed every second; one IOC's page with its environment, errors and records.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { ApiError, fmtAgo, fmtTime, get, type IocDetail, type IocSummary } from './api.js';
import { href } from './route.js';

const REFRESH_MS = 1000;

/** Poll `path` every REFRESH_MS while mounted; the latest answer or error (with its HTTP status, 0 for none). */
export function usePoll<T>(path: string, everyMs = REFRESH_MS): { data: T | null; error: string; errorStatus: number; refresh: () => void } {
  // Each answer is kept with the path it answers: when the path changes (a new filter, another page) the previous
  // answer is not shown under the new question; the view says "Loading…" until the new one arrives.
  const [got, setGot] = useState<{ path: string; data: T } | null>(null);
  const [error, setError] = useState('');
  const [errorStatus, setErrorStatus] = useState(0);
  const [n, setN] = useState(0);
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ac = new AbortController();
    setError('');
    setErrorStatus(0);
    const tick = (): void => {
      get<T>(path, ac.signal).then((d) => { if (!stop) { setGot({ path, data: d }); setError(''); setErrorStatus(0); } },
        (e: Error) => { if (!stop) { setError(e.message); setErrorStatus(e instanceof ApiError ? e.status : 0); } })
        .finally(() => { if (!stop) timer = setTimeout(tick, everyMs); });
    };
    tick();
    return () => { stop = true; clearTimeout(timer); ac.abort(); };
  }, [path, n]);
  return { data: got !== null && got.path === path ? got.data : null, error, errorStatus, refresh: () => setN(n + 1) };
}

function StatusBadge(props: { status: string }) {
  return html`<span class=${props.status === 'Active' ? 'badge ok' : 'badge bad'}>${props.status}</span>`;
}

const FILTERS = [['all', 'All'], ['inactive', 'Inactive'], ['errors', 'With errors'], ['duplicates', 'Duplicate names']] as const;

export function IocsView() {
  const { data, error } = usePoll<{ revision: number; iocs: IocSummary[] }>('/api/v1/iocs');
  const [filter, setFilter] = useState<string>('all');
  const [text, setText] = useState('');
  const now = Date.now();
  const all = data?.iocs ?? [];
  const t = text.trim().toLowerCase();
  const shown = all.filter((i) => (filter === 'all' || (filter === 'inactive' && i.status !== 'Active')
    || (filter === 'errors' && i.errors > 0) || (filter === 'duplicates' && i.duplicateName))
    && (t === '' || i.iocId.toLowerCase().includes(t)));
  const inactive = all.filter((i) => i.status !== 'Active').length;
  const dup = all.filter((i) => i.duplicateName).length;
  const withErrors = all.filter((i) => i.errors > 0).length;
  return html`<section aria-labelledby="h-iocs">
    <h2 id="h-iocs">IOCs</h2>
    <p class="summary">${error !== '' ? html`<span role="alert" class="bad">${error}</span>` : data === null ? 'Loading…' : html`
      ${all.length} IOCs: <span class=${inactive > 0 ? 'bad' : ''}>${inactive} inactive</span>,
      <span class=${withErrors > 0 ? 'bad' : ''}>${withErrors} with configuration errors</span>,
      <span class=${dup > 0 ? 'warn' : ''}>${dup} sharing a name</span>.`}</p>
    <div class="filters">
      <label>Filter <input type="search" value=${text} onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} /></label>
      <fieldset><legend>Show</legend>${FILTERS.map(([k, label]) => html`<label key=${k}>
        <input type="radio" name="ioc-filter" value=${k} checked=${filter === k} onChange=${() => setFilter(k)} /> ${label}</label>`)}</fieldset>
    </div>
    <table class="grid">
      <caption class="sr-only">IOCs (updated every second)</caption>
      <thead><tr><th scope="col">IOC</th><th scope="col">Status</th><th scope="col">Host</th><th scope="col">Records</th>
        <th scope="col">Last upload</th><th scope="col">Configuration errors</th></tr></thead>
      <tbody>${shown.map((i) => html`<tr key=${i.iocId} data-ioc=${i.iocId} class=${i.status !== 'Active' ? 'dead' : ''}>
        <th scope="row"><a href=${href('iocs', i.iocId)}>${i.iocName}</a>
          ${i.duplicateName ? html` <span class="badge warn" title="Another IOC has the same name">duplicate name</span>` : null}
          <div class="sub">${i.iocId}</div></th>
        <td data-col="status"><${StatusBadge} status=${i.status} />${i.state === 'uploading' ? html` <span class="badge warn">uploading</span>` : null}</td>
        <td>${i.hostName}${i.iocIP === null ? '' : html` <span class="sub">${i.iocIP}</span>`}</td>
        <td class="num">${i.records.toLocaleString('en')}${i.goneRecords > 0 ? html` <span class="sub">(${i.goneRecords} gone)</span>` : ''}</td>
        <td>${i.updatedAt === null ? '' : html`<time datetime=${i.updatedAt} title=${fmtTime(i.updatedAt)}>${fmtAgo(Date.parse(i.updatedAt), now)}</time>`}</td>
        <td>${i.errors === 0 ? 'none' : html`<span class="badge bad">${i.errors} error${i.errors === 1 ? '' : 's'}</span>`}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

const RECORDS_PAGE = 200;

export function IocPage(props: { iocId: string }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const path = `/api/v1/iocs/${encodeURIComponent(props.iocId)}?size=${RECORDS_PAGE}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
  const { data: d, error } = usePoll<IocDetail>(path, 2000);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => { heading.current?.focus(); setCursors([]); }, [props.iocId]);
  const env = Object.entries(d?.environment ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return html`<section aria-labelledby="h-ioc">
    <p><a href="#/iocs">← All IOCs</a></p>
    <h2 id="h-ioc" tabIndex="-1" ref=${heading}>IOC ${props.iocId}</h2>
    ${error !== '' ? html`<p role="alert" class="bad">${error}</p>` : d === null ? html`<p>Loading…</p>` : html`
      <dl class="facts" aria-live="polite">
        <dt>Status</dt><dd data-col="status"><${StatusBadge} status=${d.status} /> <span class="sub">upload ${d.state ?? 'unknown'}</span></dd>
        <dt>Name</dt><dd>${d.iocName}${d.duplicateName ? html` <span class="badge warn">another IOC has this name</span>` : null}</dd>
        <dt>Host</dt><dd>${d.hostName}${d.iocIP === null ? '' : ` (${d.iocIP})`}</dd>
        <dt>Records</dt><dd>${d.records.toLocaleString('en')}${d.goneRecords > 0 ? ` (${d.goneRecords} gone)` : ''}</dd>
        <dt>Last upload</dt><dd>${fmtTime(d.updatedAt)} ${d.writer === null ? '' : html`<span class="sub">by ${d.writer}</span>`}</dd>
        <dt>Channels</dt><dd><a href=${href('channels', null, { q: `iocid=${d.iocId}` })}>search its channels</a></dd>
      </dl>
      <h3>Configuration errors</h3>
      ${d.errorList.length === 0 ? html`<p>None.</p>` : html`<ul class="errors">${d.errorList.map((e) => html`<li>
        <code>${e.file}${e.line === undefined ? '' : `:${e.line}`}${e.col === undefined ? '' : `:${e.col}`}</code> ${e.code}: ${e.message}</li>`)}</ul>`}
      <h3>Environment</h3>
      ${env.length === 0 ? html`<p>None published.</p>` : html`<table class="grid compact"><caption class="sr-only">Environment of ${props.iocId}</caption>
        <thead><tr><th scope="col">Variable</th><th scope="col">Value</th></tr></thead>
        <tbody>${env.map(([k, v]) => html`<tr key=${k}><th scope="row">${k}</th><td><code>${v}</code></td></tr>`)}</tbody></table>`}
      <h3>Records</h3>
      <nav aria-label="Record pages" class="pager">
        <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous records</button>
        <button type="button" disabled=${d.nextAfter === null} onClick=${() => d.nextAfter !== null && setCursors([...cursors, d.nextAfter])}>Next records</button>
      </nav>
      <table class="grid"><caption class="sr-only">Records of ${props.iocId}</caption>
        <thead><tr><th scope="col">Record</th><th scope="col">Type</th><th scope="col">Description</th><th scope="col">Defined in</th><th scope="col">Aliases</th></tr></thead>
        <tbody>${d.recordPage.map((r) => html`<tr key=${r.name} class=${r.gone ? 'dead' : ''}>
          <th scope="row"><a href=${href('channels', r.name, { q: r.name })}>${r.name}</a>${r.gone ? html` <span class="badge bad">gone</span>` : null}</th>
          <td>${r.type}</td><td>${r.desc}</td><td>${r.file === null ? '' : html`<code>${r.file}${r.line === null ? '' : `:${r.line}`}</code>`}</td>
          <td>${r.aliases.join(', ')}</td></tr>`)}</tbody></table>`}
  </section>`;
}
