// The pvsync operator console: a hash-routed single page (Channels, IOCs, Archiver groups, Archived PVs,
// Installations), reading the same HTTP API as every other client.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import 'uplot/dist/uPlot.min.css';
import './console.css';
import { ApiError, basicHeader, saveAuth, savedAuth, whoami, type User } from './api.js';
import { ArchivedView } from './archived.js';
import { ArchiverView } from './archiver.js';
import { ChannelsView } from './channels.js';
import { InstallationsView } from './installations.js';
import { IocPage, IocsView } from './iocs.js';
import { route, type Route } from './route.js';

function useRoute(): Route {
  const [r, setR] = useState(route());
  useEffect(() => {
    const on = (): void => setR(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}

const VIEWS = [
  ['channels', 'Channels'], ['iocs', 'IOCs'], ['archiver', 'Archiver groups'],
  ['archived', 'Archived PVs'], ['installations', 'Installations'],
] as const;

/** Sign in with the API's users (HTTP Basic); the credentials are checked with /api/v1/whoami and kept for this tab. */
function SignIn(props: { user: User | null; onUser: (u: User | null, auth: string | null) => void }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  if (props.user !== null) {
    return html`<div class="signin">
      <span>Signed in as <strong>${props.user.name}</strong> (${props.user.roles.join(', ') || 'no role'})</span>
      <button type="button" onClick=${() => { saveAuth(null); props.onUser(null, null); }}>Sign out</button>
    </div>`;
  }
  if (!open) return html`<div class="signin"><button type="button" onClick=${() => setOpen(true)}>Sign in</button></div>`;
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const f = new FormData(ev.target as HTMLFormElement);
    const auth = basicHeader(String(f.get('user') ?? ''), String(f.get('password') ?? ''));
    try {
      const u = await whoami(auth);
      saveAuth(auth);
      setError('');
      setOpen(false);
      props.onUser(u, auth);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong user name or password.' : String((err as Error).message));
    }
  };
  return html`<form class="signin" onSubmit=${submit} aria-label="Sign in">
    <label>User <input name="user" autocomplete="username" required autoFocus /></label>
    <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
    <button type="submit">Sign in</button>
    <button type="button" onClick=${() => setOpen(false)}>Cancel</button>
    ${error === '' ? null : html`<span role="alert" class="bad">${error}</span>`}
  </form>`;
}

function App() {
  const r = useRoute();
  const [user, setUser] = useState<User | null>(null);
  const [auth, setAuth] = useState<string | null>(savedAuth());
  useEffect(() => {
    const a = savedAuth();
    if (a === null) return;
    whoami(a).then(setUser, () => { saveAuth(null); setAuth(null); });
  }, []);
  useEffect(() => {
    const label = VIEWS.find(([k]) => k === r.view)?.[1] ?? 'Channels';
    document.title = `${label} · pvsync console`;
  }, [r.view]);
  let body;
  switch (r.view) {
    case 'iocs':
      body = r.id === null ? html`<${IocsView} />` : html`<${IocPage} iocId=${r.id} />`;
      break;
    case 'archiver':
      body = html`<${ArchiverView} group=${r.params.get('group')} user=${user} auth=${auth} />`;
      break;
    case 'archived':
      body = html`<${ArchivedView} params=${r.params} />`;
      break;
    case 'installations':
      body = html`<${InstallationsView} />`;
      break;
    default:
      body = html`<${ChannelsView} query=${r.params.get('q') ?? ''} selected=${r.id} />`;
  }
  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
    <header class="top">
      <h1><a href="#/channels">pvsync</a></h1>
      <nav aria-label="Views">
        <ul>${VIEWS.map(([k, label]) => html`<li><a href=${`#/${k}`} aria-current=${r.view === k ? 'page' : undefined}>${label}</a></li>`)}</ul>
      </nav>
      <${SignIn} user=${user} onUser=${(u: User | null, a: string | null) => { setUser(u); setAuth(a); }} />
    </header>
    <main id="main" tabIndex="-1">${body}</main>`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
