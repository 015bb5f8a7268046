// Archived PVs: what the archive reconciler asks the group's active appliance to archive, one page at a time, with
// the appliance's own status of each PV (getPVStatus) and what the reconciler does next; which node and appliance
// are active, and a clear alert when none can be asked. Refreshed every two seconds.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { fmtAgo, fmtTime, type ArchivedPage, type ArchivedRow, type NextAction } from './api.js';
import { usePoll } from './iocs.js';
import { href } from './route.js';

const REFRESH_MS = 2000;
const PAGE = 100;

/** The reconciler's next step, in words (the caption explains them). */
const NEXT: Record<NextAction, string> = {
  none: 'in step', archive: 'to archive', pause: 'to pause (IOC down)', resume: 'to resume', change: 'to re-sample',
  wait: 'in the appliance\'s workflow', refused: 'archive spec refused',
};

function statusClass(r: ArchivedRow): string {
  const s = r.appliance?.status;
  if (s === 'Being archived') return 'badge ok';
  if (s === 'Paused' || s === 'Initial sampling' || s === 'Appliance assigned') return 'badge warn';
  return r.next === 'none' ? 'badge' : 'badge bad';
}

function sampling(r: ArchivedRow): string {
  const a = r.appliance;
  if (a?.method === undefined && a?.period === undefined) return '';
  return `${a.method ?? ''}${a.period === undefined ? '' : ` ${a.period} s`}`.trim();
}

function Row(props: { r: ArchivedRow }) {
  const r = props.r;
  const cls = r.problem !== null ? 'dead' : r.next !== null && r.next !== 'none' ? 'pending' : '';
  return html`<tr data-pv=${r.name} class=${cls}>
    <th scope="row"><a href=${href('channels', r.name, { q: r.name })}>${r.name}</a></th>
    <td><code>${r.archive}</code>${r.problem === null ? null : html`<div class="sub">${r.problem}</div>`}</td>
    <td data-col="ioc"><span class=${r.iocStatus === 'Active' ? 'badge ok' : 'badge bad'}>${r.iocStatus}</span>
      ${r.iocId === null ? null : html` <a class="sub" href=${href('iocs', r.iocId)}>${r.iocId}</a>`}</td>
    <td data-col="status">${r.appliance === null ? html`<span class="sub">unknown</span>` : html`<span class=${statusClass(r)}>${r.appliance.status}</span>`}</td>
    <td data-col="sampling">${sampling(r)}</td>
    <td data-col="last">${r.appliance?.lastEvent ?? ''}</td>
    <td data-col="next">${r.next === null ? '' : NEXT[r.next]}</td>
  </tr>`;
}

function Active(props: { p: ArchivedPage }) {
  const { active, appliance } = props.p;
  const now = Date.now();
  return html`<div aria-live="polite" id="archived-active">
    ${active === null ? null : html`<p class="summary">Active node <strong data-active=${active.node}>${active.node}</strong>${' '}
      (fencing token ${active.token}, since <time datetime=${new Date(active.since).toISOString()} title=${fmtTime(active.since)}>${fmtAgo(active.since, now)}</time>),
      appliance ${appliance.identity === null ? '' : html`<strong>${appliance.identity}</strong> `}${appliance.mgmt === null ? '' : html`at <code>${appliance.mgmt}</code>`}.</p>`}
    ${appliance.error === null ? null : html`<p role="alert" class="alert">
      <strong>${appliance.reachable ? 'The appliance cannot report yet' : 'No appliance reachable'}:</strong> ${appliance.error}.
      The list below is what the directory asks for; the appliance's status of each PV is unknown until it answers.</p>`}
  </div>`;
}

export function ArchivedView(props: { params: URLSearchParams }) {
  const group = props.params.get('group') ?? '';
  const name = props.params.get('name') ?? '';
  const archiver = props.params.get('archiver') ?? '';
  const untargeted = props.params.get('untargeted') !== 'false';
  const size = Math.min(500, Math.max(1, Number(props.params.get('size') ?? PAGE) || PAGE));
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const filter = `${group}|${name}|${archiver}|${untargeted}|${size}`;
  const first = useRef(filter);
  useEffect(() => { if (first.current !== filter) { first.current = filter; setCursors([]); } }, [filter]);
  const q = new URLSearchParams({ size: String(size) });
  if (group !== '') q.set('group', group);
  if (name !== '') q.set('name', name);
  if (archiver !== '') q.set('archiver', archiver);
  if (!untargeted) q.set('untargeted', 'false');
  if (after !== undefined) q.set('after', after);
  const { data: p, error } = usePoll<ArchivedPage>(`/api/v1/archiver/pvs?${q.toString()}`, REFRESH_MS);
  const submit = (ev: Event): void => {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    const params: Record<string, string> = {};
    for (const k of ['group', 'name', 'archiver']) {
      const v = String(f.get(k) ?? '').trim();
      if (v !== '') params[k] = v;
    }
    if (f.get('untargeted') === null) params['untargeted'] = 'false';
    if (size !== PAGE) params['size'] = String(size);
    location.hash = href('archived', null, params);
  };
  const start = cursors.length * size;
  return html`<section aria-labelledby="h-archived">
    <h2 id="h-archived">Archived PVs${p === null ? '' : ` of group ${p.group}`}</h2>
    <form class="filters" onSubmit=${submit} aria-label="Which PVs">
      <label>Group <input name="group" value=${group} placeholder="the server's default" /></label>
      <label>PV name <input name="name" type="search" value=${name} placeholder="*" /></label>
      <label>Appliance names <input name="archiver" value=${archiver} placeholder="as the reconciler's --archiver" /></label>
      <label><input type="checkbox" name="untargeted" checked=${untargeted} /> with no <code>archiver</code> property</label>
      <button type="submit">Show</button>
    </form>
    ${error !== '' ? html`<p role="alert" class="bad">${error}</p>` : p === null ? html`<p>Loading…</p>` : html`
      <${Active} p=${p} />
      <p class="summary" id="archived-count">${p.total === 0 ? 'No PV with an archive property is served to this appliance.'
        : `PVs ${(start + 1).toLocaleString('en')}–${(start + p.pvs.length).toLocaleString('en')} of ${p.total.toLocaleString('en')}`}</p>
      <nav aria-label="PV pages" class="pager">
        <button type="button" disabled=${cursors.length === 0} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous PVs</button>
        <button type="button" disabled=${p.nextAfter === null} onClick=${() => p.nextAfter !== null && setCursors([...cursors, p.nextAfter])}>Next PVs</button>
      </nav>
      <table class="grid">
        <caption>The directory's channels with an <code>archive</code> property that the archive reconciler serves to this appliance,
          with what the active appliance reports of each (refreshed every ${REFRESH_MS / 1000} s). "Reconciler" is what the reconciler
          does next: "to …" where the appliance differs from what the directory asks, acted upon at its next pass over that PV.</caption>
        <thead><tr><th scope="col">PV</th><th scope="col">Archive spec</th><th scope="col">IOC</th><th scope="col">On the appliance</th>
          <th scope="col">Sampling</th><th scope="col">Last event</th><th scope="col">Reconciler</th></tr></thead>
        <tbody>${p.pvs.map((r) => html`<${Row} key=${r.name} r=${r} />`)}</tbody>
      </table>`}
  </section>`;
}
