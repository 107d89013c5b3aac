// The xp console: sign in with a registry token (kept in sessionStorage for this tab only), then
// Ideas, Experiments (list, page, report) and Flags. Routing is in the URL hash, so the registry
// serves one page.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { TOKEN_KEY, api, token, type Me } from './api';
import { ExperimentPage, ReportPage } from './experiment';
import { FlagsPage } from './flags';
import { ExperimentsPage, IdeasPage } from './pages';
import { NoticeBox, PageTitle, errorText, type Notice } from './ui';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/ideas');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/ideas');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice: Notice | null }) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<Notice | null>(notice);
  const submit = async (e: Event) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, value.trim());
    try {
      onSignedIn(await api('GET', '/v1/me'));
    } catch (err) {
      sessionStorage.removeItem(TOKEN_KEY);
      setProblem({ kind: 'error', text: `Sign-in refused: ${errorText(err)}` });
    }
  };
  return (
    <main>
      <PageTitle>Sign in to the xp console</PageTitle>
      <NoticeBox notice={problem} />
      <form onSubmit={submit}>
        <label for="token">Registry API token</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          required
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />{' '}
        <button type="submit">Sign in</button>
        <p class="muted">
          The token stays in this browser tab (sessionStorage) and is sent only to this registry.
        </p>
      </form>
    </main>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(token() !== null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const hash = useHash();
  useEffect(() => {
    if (!token()) return;
    api('GET', '/v1/me').then(
      (m) => (setMe(m), setChecking(false)),
      (err) => {
        sessionStorage.removeItem(TOKEN_KEY);
        setNotice({ kind: 'error', text: `Signed out: ${errorText(err)}` });
        setChecking(false);
      },
    );
  }, []);
  if (checking) return <main aria-busy="true">Checking your token…</main>;
  if (!me) return <SignIn onSignedIn={setMe} notice={notice} />;

  const signOut = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setMe(null);
    setNotice({ kind: 'ok', text: 'Signed out.' });
  };
  const [, page, key, sub] = hash.split('/');
  const current = (p: string) => (page === p ? 'page' : undefined);
  return (
    <>
      <header>
        <strong>xp console</strong>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href="#/ideas" aria-current={current('ideas')}>
                Ideas
              </a>
            </li>
            <li>
              <a href="#/experiments" aria-current={current('experiments')}>
                Experiments
              </a>
            </li>
            <li>
              <a href="#/flags" aria-current={current('flags')}>
                Flags
              </a>
            </li>
          </ul>
        </nav>
        <span class="who">
          {me.identity} ({me.role})
        </span>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {page === 'experiments' && key && sub === 'report' ? (
          <ReportPage keyName={decodeURIComponent(key)} key={`${key}/report`} />
        ) : page === 'experiments' && key ? (
          <ExperimentPage me={me} keyName={decodeURIComponent(key)} key={key} />
        ) : page === 'experiments' ? (
          <ExperimentsPage />
        ) : page === 'flags' ? (
          <FlagsPage me={me} />
        ) : (
          <IdeasPage me={me} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
