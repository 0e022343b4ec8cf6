import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, signIn, type Session } from '../api';
import { Field, Status } from '../common';
import { useTexts } from '../i18n';

export function SignIn(props: { onSignedIn(session: Session): void; ended: boolean }): preact.JSX.Element {
  const { t } = useTexts();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${t('signin.title')} · Stellwerk`;
  }, [t]);

  return (
    <main id="main" class="signin">
      <h1 ref={heading}>{t('signin.title')}</h1>
      <p>{t('signin.intro')}</p>
      {props.ended ? <p class="muted">{t('signin.ended')}</p> : null}
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          setBusy(true);
          setError(null);
          try {
            props.onSignedIn(await signIn(String(form.get('key') ?? '').trim()));
          } catch (caught) {
            setError(caught instanceof ApiError && caught.status === 401 ? new Error(t('signin.wrong_key')) : caught);
            setBusy(false);
          }
        }}
      >
        <Field label={t('signin.key')} hint={t('signin.key_hint')}>
          <input name="key" type="password" autoComplete="current-password" required autoFocus />
        </Field>
        <button type="submit" disabled={busy}>
          {t('signin.submit')}
        </button>
      </form>
      <Status error={error} />
    </main>
  );
}
