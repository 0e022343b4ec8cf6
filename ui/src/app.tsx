import { useEffect, useMemo, useState } from 'preact/hooks';
import { currentSession, onSessionEnd, signOut, type Session } from './api';
import { Link, Status, navigate } from './common';
import { LANGS, TextsContext, initialLang, storeLang, texts, type Lang, type MessageKey } from './i18n';
import { Audit } from './pages/audit';
import { Fleet, loadFleet } from './pages/fleet';
import { KeysAndTeams } from './pages/keys';
import { Models } from './pages/models';
import { Overview } from './pages/overview';
import { Requests } from './pages/requests';
import { SignIn } from './pages/signin';
import { Spend } from './pages/spend';

/** The pages, by their path under /ui/. */
const PAGES = ['overview', 'spend', 'keys', 'models', 'requests', 'fleet', 'audit'] as const;
type Page = (typeof PAGES)[number];

interface Route {
  readonly page: Page;
  /** The id after the page's path, e.g. a request's in /ui/requests/<id>. */
  readonly id: string | null;
}

function parseRoute(pathname: string): Route {
  const [first, second] = pathname.replace(/^\/ui\/?/, '').split('/');
  const page = (PAGES as readonly string[]).includes(first ?? '') ? (first as Page) : 'overview';
  return { page, id: second ? decodeURIComponent(second) : null };
}

type SessionState = { kind: 'checking' } | { kind: 'out'; ended: boolean } | { kind: 'in'; session: Session } | { kind: 'failed'; error: unknown };

export function App(): preact.JSX.Element {
  const [lang, setLang] = useState<Lang>(initialLang);
  const t = useMemo(() => texts(lang), [lang]);
  const [state, setState] = useState<SessionState>({ kind: 'checking' });
  const [route, setRoute] = useState<Route>(() => parseRoute(location.pathname));
  const [fleetShown, setFleetShown] = useState(false);

  // The page's lang attribute follows the language shown.
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  // A choice is stored in the change itself, not in an effect: effects run only after the next
  // paint, and a reload before that would forget it.
  const chooseLang = (next: Lang): void => {
    storeLang(next);
    setLang(next);
  };

  useEffect(() => {
    onSessionEnd(() => setState({ kind: 'out', ended: true }));
    currentSession().then(
      (session) => setState(session === null ? { kind: 'out', ended: false } : { kind: 'in', session }),
      (error: unknown) => setState({ kind: 'failed', error }),
    );
    const onPop = (): void => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  // The Fleet page exists only where the gateway has self-hosted servers to show.
  useEffect(() => {
    if (state.kind !== 'in') return;
    loadFleet().then(
      (fleet) => setFleetShown(fleet.data.length > 0),
      () => setFleetShown(false),
    );
  }, [state.kind]);

  const languageSwitch = (
    <label class="lang">
      <span class="label">{t.t('app.language')}</span>
      <select value={lang} onChange={(event) => chooseLang(event.currentTarget.value as Lang)}>
        {LANGS.map((code) => (
          <option key={code} value={code} lang={code}>
            {t.t(`lang.${code}` as MessageKey)}
          </option>
        ))}
      </select>
    </label>
  );

  let content: preact.JSX.Element;
  if (state.kind === 'checking') {
    content = (
      <main id="main">
        <Status loading />
      </main>
    );
  } else if (state.kind === 'failed') {
    content = (
      <main id="main">
        <Status error={state.error} />
      </main>
    );
  } else if (state.kind === 'out') {
    content = <SignIn ended={state.ended} onSignedIn={(session) => setState({ kind: 'in', session })} />;
  } else {
    const pages = PAGES.filter((page) => page !== 'fleet' || fleetShown);
    content = (
      <>
        <nav aria-label={t.t('app.nav')} class="nav">
          <ul>
            {pages.map((page) => (
              <li key={page}>
                <Link href={`/ui/${page}`} current={route.page === page}>
                  {t.t(`nav.${page}` as MessageKey)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main">
          <PageView route={route} session={state.session} />
        </main>
      </>
    );
  }

  return (
    <TextsContext.Provider value={t}>
      <a href="#main" class="skip">
        {t.t('app.skip')}
      </a>
      <header class="top">
        <span class="brand">Stellwerk</span>
        <div class="top-tools">
          {languageSwitch}
          {state.kind === 'in' ? (
            <>
              <span class="muted who">{state.session.role === 'master' ? t.t('app.role_master') : t.t('app.role_admin', { team: state.session.team_id ?? '–' })}</span>
              <button
                type="button"
                class="secondary"
                onClick={async () => {
                  try {
                    await signOut();
                  } finally {
                    setState({ kind: 'out', ended: false });
                    navigate('/ui/');
                  }
                }}
              >
                {t.t('app.sign_out')}
              </button>
            </>
          ) : null}
        </div>
      </header>
      <div class="layout">{content}</div>
    </TextsContext.Provider>
  );
}

function PageView(props: { route: Route; session: Session }): preact.JSX.Element {
  switch (props.route.page) {
    case 'overview':
      return <Overview />;
    case 'spend':
      return <Spend />;
    case 'keys':
      return <KeysAndTeams session={props.session} />;
    case 'models':
      return <Models />;
    case 'requests':
      return <Requests id={props.route.id} />;
    case 'fleet':
      return <Fleet />;
    case 'audit':
      return <Audit />;
  }
}
