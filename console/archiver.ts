// Archiver groups, the cluster manager's view: each node's role, health checks, since when, fencing token, endpoints
// and the resources its start hooks bring up; a switchover button for ADMIN users; the timeline of past takeovers
// and switchovers with their durations (a uPlot chart, and the same data as a table).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import uPlot from 'uplot';
import { fmtAgo, fmtTime, switchover, type GroupStatus, type GroupTimeline, type TimelineEntry, type User } from './api.js';
import { usePoll } from './iocs.js';
import { href } from './route.js';

const CAUSES = ['switchover', 'takeover', 'start'] as const;
const COLORS: Record<(typeof CAUSES)[number], string> = { switchover: '#1f6fd1', takeover: '#c2410c', start: '#4d7c0f' };

function TimelinePlot(props: { entries: TimelineEntry[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = el.current;
    if (box === null || props.entries.length === 0) return undefined;
    const xs = props.entries.map((e) => e.activeAt / 1000);
    const series = CAUSES.map((c) => props.entries.map((e) => (e.cause === c ? e.durationMs : null)));
    const width = Math.max(320, box.clientWidth);
    const plot = new uPlot({
      width, height: 220, title: 'Handover durations',
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(100, max * 1.15)] } },
      axes: [{}, { label: 'ms until active', size: 70 }],
      series: [{}, ...CAUSES.map((c) => ({
        label: c, stroke: COLORS[c], fill: COLORS[c], width: 0, paths: () => null,
        points: { show: true, size: 9, fill: COLORS[c] },
      }))],
    }, [xs, ...series] as uPlot.AlignedData, box);
    const onResize = (): void => plot.setSize({ width: Math.max(320, box.clientWidth), height: 220 });
    addEventListener('resize', onResize);
    return () => { removeEventListener('resize', onResize); plot.destroy(); };
  }, [props.entries.map((e) => `${e.token}:${e.durationMs}`).join()]); // redrawn when a handover is added, not on every poll
  return html`<div ref=${el} class="plot" role="img"
    aria-label=${`Chart of ${props.entries.length} handovers: milliseconds until the new node was active, by time; the table below has the same data.`}></div>`;
}

function Switchover(props: { group: string; status: GroupStatus; auth: string; onDone: () => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [confirm, setConfirm] = useState<string | null>(null);
  const targets = props.status.nodes.filter((n) => n.role === 'standby' && n.healthy && n.node !== props.status.active?.node);
  const run = async (to: string): Promise<void> => {
    setBusy(to);
    setConfirm(null);
    setMessage(`Switching over to ${to}…`);
    try {
      const r = await switchover(props.auth, props.group, to);
      setMessage(`Switched over from ${r.from} to ${r.to} in ${r.elapsedMs} ms.`);
    } catch (err) {
      setMessage(`Switchover refused: ${(err as Error).message}`);
    } finally {
      setBusy(null);
      props.onDone();
    }
  };
  return html`<section aria-labelledby="h-switch" class="switch">
    <h3 id="h-switch">Switchover</h3>
    ${props.status.active === null ? html`<p>No node is active: nothing to switch over from.</p>`
      : targets.length === 0 ? html`<p>No healthy standby to hand over to.</p>`
      : targets.map((t) => confirm === t.node ? html`<p key=${t.node}>
          Stop ${props.status.active?.node} and make <strong>${t.node}</strong> active?
          <button type="button" class="danger" onClick=${() => void run(t.node)} autoFocus>Confirm switchover to ${t.node}</button>
          <button type="button" onClick=${() => setConfirm(null)}>Cancel</button></p>`
        : html`<button key=${t.node} type="button" disabled=${busy !== null} onClick=${() => setConfirm(t.node)}>Switch over to ${t.node}</button>`)}
    <p aria-live="polite" role="status">${message}</p>
  </section>`;
}

export function ArchiverView(props: { group: string | null; user: User | null; auth: string | null }) {
  const q = props.group === null ? '' : `?group=${encodeURIComponent(props.group)}`;
  const { data: s, error, refresh } = usePoll<GroupStatus>(`/api/v1/archiver/status${q}`);
  const { data: tl, refresh: refreshTimeline } = usePoll<GroupTimeline>(`/api/v1/archiver/timeline${q}`, 5000);
  const [groupText, setGroupText] = useState(props.group ?? '');
  const now = Date.now();
  const admin = props.user?.roles.includes('ADMIN') === true && props.auth !== null;
  const entries = tl?.entries ?? [];
  return html`<section aria-labelledby="h-arch">
    <h2 id="h-arch">Archiver group ${s?.group ?? props.group ?? ''}</h2>
    <form class="search" onSubmit=${(e: Event) => { e.preventDefault(); location.hash = href('archiver', null, groupText === '' ? {} : { group: groupText }); }}>
      <label for="group">Group</label><input id="group" value=${groupText} onInput=${(e: Event) => setGroupText((e.target as HTMLInputElement).value)} placeholder="the server's default" />
      <button type="submit">Show</button>
    </form>
    ${error !== '' ? html`<p role="alert" class="bad">${error}</p>` : s === null ? html`<p>Loading…</p>` : html`
      <p class="summary" aria-live="polite" id="active-node">${s.active === null
        ? html`<span class="badge bad">no active node</span>`
        : html`Active: <strong data-active=${s.active.node}>${s.active.node}</strong>, fencing token ${s.active.token}, since ${fmtTime(s.active.since)} (${fmtAgo(s.active.since, now)})`}
        ${s.switchover === null ? null : html` <span class="badge warn">switchover requested${s.switchover.to === undefined ? '' : ` to ${s.switchover.to}`}</span>`}
        ${' '}<a href=${href('archived', null, { group: s.group })}>Its archived PVs</a></p>
      <table class="grid">
        <caption class="sr-only">Nodes of the group (updated every second)</caption>
        <thead><tr><th scope="col">Node</th><th scope="col">Role</th><th scope="col">Health checks</th><th scope="col">Since</th>
          <th scope="col">Fencing token</th><th scope="col">Published endpoints</th><th scope="col">Resources (start hooks)</th></tr></thead>
        <tbody>${s.nodes.map((n) => html`<tr key=${n.node} data-node=${n.node} class=${n.role === 'active' ? 'active' : n.healthy ? '' : 'dead'}>
          <th scope="row">${n.node}<div class="sub">${n.host ?? ''}${n.pid === undefined ? '' : ` pid ${n.pid}`}</div></th>
          <td data-col="role"><span class=${n.role === 'active' ? 'badge ok' : n.role === 'standby' ? 'badge' : 'badge warn'}>${n.role}</span></td>
          <td><ul class="checks">${n.checks.map((c) => html`<li key=${c.name}><span class=${c.ok ? 'badge ok' : 'badge bad'}>${c.ok ? 'ok' : 'failing'}</span> ${c.name}${c.detail === '' ? '' : html` <span class="sub">${c.detail}</span>`}</li>`)}
            ${n.checks.length === 0 ? html`<li>${n.healthy ? 'healthy' : 'unhealthy'} (no checks)</li>` : null}</ul></td>
          <td><time datetime=${new Date(n.since).toISOString()} title=${fmtTime(n.since)}>${fmtAgo(n.since, now)}</time></td>
          <td>${n.token ?? '—'}</td>
          <td><ul class="plain">${Object.entries(n.endpoints).map(([k, v]) => html`<li key=${k}>${k}: <code>${v}</code></li>`)}</ul></td>
          <td>${n.resources === undefined ? html`<span class="sub">not published</span>` : html`<ul class="plain">${n.resources.map((r, i) => html`<li key=${i}>
            <span class=${n.role === 'active' ? 'badge ok' : 'badge'}>${n.role === 'active' ? 'started' : 'stopped'}</span> <code>${r}</code></li>`)}</ul>`}</td>
        </tr>`)}</tbody>
      </table>
      ${admin ? html`<${Switchover} group=${s.group} status=${s} auth=${props.auth as string} onDone=${() => { refresh(); refreshTimeline(); }} />`
        : html`<p class="sub">Sign in as an ADMIN user to switch the active node over.</p>`}
    `}
    <section aria-labelledby="h-timeline">
      <h3 id="h-timeline">Takeovers and switchovers</h3>
      ${tl === null ? html`<p>Loading…</p>` : entries.length === 0 ? html`<p>No handover in the history etcd still holds (from revision ${tl.fromRevision}).</p>` : html`
        <${TimelinePlot} entries=${entries} />
        <table class="grid compact"><caption>Handovers since etcd revision ${tl.fromRevision}, latest first. A takeover is counted from the moment the
          old node was known to stop, or else from the new leader's election (marked *): the time a crashed node was dead before its lease expired is not recorded.</caption>
          <thead><tr><th scope="col">Active from</th><th scope="col">Node</th><th scope="col">Previous</th><th scope="col">Cause</th><th scope="col">Duration</th><th scope="col">Token</th></tr></thead>
          <tbody>${[...entries].reverse().map((e) => html`<tr key=${e.token}>
            <td>${fmtTime(e.activeAt)}</td><th scope="row">${e.node}</th><td>${e.from ?? '—'}</td><td>${e.cause}</td>
            <td class="num">${e.durationMs.toLocaleString('en')} ms${e.sinceLeaseExpiry ? ' *' : ''}</td><td>${e.token}</td></tr>`)}</tbody>
        </table>`}
    </section>
  </section>`;
}
