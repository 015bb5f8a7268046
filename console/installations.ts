// Installations and replication: every installation, every data type with its primary and replicas, and how current
// each replica held here is (lag since its replicator last proved it current); stale and unproven replicas stand
// out. Refreshed every second.
import { html } from 'htm/preact';
import { fmtAgo, fmtTime, type InstallationsReport, type ReplicaReport } from './api.js';
import { usePoll } from './iocs.js';

const STATE: Record<ReplicaReport['state'], { label: string; cls: string }> = {
  current: { label: 'current', cls: 'badge ok' },
  stale: { label: 'stale', cls: 'badge bad' },
  unproven: { label: 'not replicated yet', cls: 'badge bad' },
  elsewhere: { label: 'held elsewhere', cls: 'badge' },
};

function lagText(r: ReplicaReport): string {
  if (r.lagSeconds === null) return r.state === 'elsewhere' ? `known at ${r.installation}` : 'never proven';
  return `${r.lagSeconds.toFixed(1)} s`;
}

/** Where another installation's console is (its first API URL). */
function consoleOf(rep: InstallationsReport, name: string): string | null {
  const api = rep.installations.find((i) => i.name === name)?.api[0];
  return api === undefined ? null : `${api.replace(/\/+$/, '')}/console/#/installations`;
}

function Replica(props: { rep: InstallationsReport; type: string; primary: string; r: ReplicaReport; now: number }) {
  const { rep, r } = props;
  const st = STATE[r.state];
  const elsewhere = consoleOf(rep, r.installation);
  return html`<tr data-replica=${`${props.type}:${props.primary}:${r.installation}`} class=${r.state === 'stale' || r.state === 'unproven' ? 'dead' : ''}>
    <th scope="row">${props.type}</th>
    <td>${props.primary}${props.primary === rep.installation ? html` <span class="badge">this server</span>` : null}</td>
    <td>${r.installation}${r.installation === rep.installation ? html` <span class="badge">this server</span>` : null}</td>
    <td data-col="state"><span class=${st.cls}>${st.label}</span></td>
    <td class="num" data-col="lag">${lagText(r)}</td>
    <td class="num">${r.revision ?? ''}</td>
    <td>${r.provenAt === null ? (r.state === 'elsewhere' && elsewhere !== null ? html`<a href=${elsewhere}>its console</a>` : '')
      : html`<time datetime=${r.provenAt} title=${fmtTime(r.provenAt)}>${fmtAgo(Date.parse(r.provenAt), props.now)}</time>`}</td>
  </tr>`;
}

export function InstallationsView() {
  const { data: rep, error, errorStatus } = usePoll<InstallationsReport>('/api/v1/installations');
  const now = Date.now();
  if (errorStatus === 404) {
    return html`<section aria-labelledby="h-inst"><h2 id="h-inst">Installations and replication</h2>
      <p>This server serves one installation only (it was started without <code>--installations</code>): nothing is replicated to or from it.
      See "Several installations" in docs/operations.md.</p></section>`;
  }
  const rows = rep?.data.flatMap((d) => d.replicas.map((r) => ({ d, r }))) ?? [];
  const bad = rows.filter(({ r }) => r.state === 'stale' || r.state === 'unproven').length;
  const here = rows.filter(({ r }) => r.state !== 'elsewhere').length;
  return html`<section aria-labelledby="h-inst">
    <h2 id="h-inst">Installations and replication</h2>
    ${error !== '' ? html`<p role="alert" class="bad">${error}</p>` : rep === null ? html`<p>Loading…</p>` : html`
      <p class="summary">This server is installation <strong data-installation=${rep.installation}>${rep.installation}</strong>.</p>
      <p class="summary" aria-live="polite" id="replica-summary">${here === 0 ? 'No replica is held here.'
        : bad === 0 ? html`<span class="badge ok">All ${here} replicas held here are current</span> (proven within ${rep.staleAfterSeconds} s).`
        : html`<span class="badge bad">${bad} of ${here} replicas held here ${bad === 1 ? 'is' : 'are'} stale or not replicated yet</span>${' '}
          (not proven current within ${rep.staleAfterSeconds} s): clients here read older data than the primary has.`}</p>
      <table class="grid">
        <caption>Where each data type is written (its primary) and copied (its replicas). The lag is the time since the
          replicator last proved the replica current with its primary; a replica held by another installation has its lag there.</caption>
        <thead><tr><th scope="col">Data type</th><th scope="col">Primary</th><th scope="col">Replica</th><th scope="col">State</th>
          <th scope="col">Lag</th><th scope="col">Checkpoint revision</th><th scope="col">Last proven current</th></tr></thead>
        <tbody>${rows.map(({ d, r }) => html`<${Replica} key=${`${d.type}:${d.primary}:${r.installation}`} rep=${rep} type=${d.type} primary=${d.primary} r=${r} now=${now} />`)}</tbody>
      </table>
      <h3>Installations</h3>
      <table class="grid compact">
        <caption class="sr-only">Installations of the facility</caption>
        <thead><tr><th scope="col">Installation</th><th scope="col">API servers</th><th scope="col">Client networks</th></tr></thead>
        <tbody>${rep.installations.map((i) => html`<tr key=${i.name} data-installation-row=${i.name} class=${i.name === rep.installation ? 'active' : ''}>
          <th scope="row">${i.name}${i.name === rep.installation ? html` <span class="badge ok">this server</span>` : null}</th>
          <td><ul class="plain">${i.api.map((u) => html`<li key=${u}><code>${u}</code>${i.name === rep.installation ? null
            : html` <a href=${`${u.replace(/\/+$/, '')}/console/#/installations`}>console</a>`}</li>`)}</ul></td>
          <td>${i.networks.length === 0 ? html`<span class="sub">none</span>` : i.networks.join(', ')}</td>
        </tr>`)}</tbody>
      </table>`}
  </section>`;
}
