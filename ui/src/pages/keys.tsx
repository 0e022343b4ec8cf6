import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, type Session } from '../api';
import { Choice, Field, PageTitle, Status, optionalList, optionalNumber, useLoad } from '../common';
import { useTexts, type MessageKey } from '../i18n';
import { loadDirectory, type KeyRow, type Limits, type TeamRow } from '../names';

const PERIODS = ['day', 'week', 'month', 'total'] as const;
const STATES = ['active', 'blocked'] as const;
const ROLES = ['user', 'admin'] as const;

/** The limit fields shared by keys and teams; values come back from the form by name. */
function LimitFields(props: { value?: Limits }): preact.JSX.Element {
  const { t } = useTexts();
  const v = props.value;
  return (
    <>
      <Field label={t('keys.budget')} hint={t('keys.budget_hint')}>
        <input name="budget" inputMode="decimal" defaultValue={v?.budget == null ? '' : String(v.budget)} />
      </Field>
      <Field label={t('keys.budget_period')}>
        <Choice name="budget_period" initial={v?.budget_period ?? 'month'} options={PERIODS.map((period) => ({ value: period, label: t(`period.${period}` as MessageKey) }))} />
      </Field>
      <Field label={t('keys.rpm')} hint={t('keys.empty_no_limit')}>
        <input name="rpm" inputMode="numeric" defaultValue={v?.rpm == null ? '' : String(v.rpm)} />
      </Field>
      <Field label={t('keys.tpm')} hint={t('keys.empty_no_limit')}>
        <input name="tpm" inputMode="numeric" defaultValue={v?.tpm == null ? '' : String(v.tpm)} />
      </Field>
      <Field label={t('keys.max_parallel')} hint={t('keys.empty_no_limit')}>
        <input name="max_parallel" inputMode="numeric" defaultValue={v?.max_parallel == null ? '' : String(v.max_parallel)} />
      </Field>
      <Field label={t('keys.models')} hint={t('keys.models_hint')}>
        <input name="models" defaultValue={v?.models?.join(', ') ?? ''} />
      </Field>
    </>
  );
}

function readLimits(form: FormData): Limits {
  const text = (name: string): string => String(form.get(name) ?? '');
  return {
    budget: optionalNumber(text('budget')),
    budget_period: text('budget_period') as Limits['budget_period'],
    rpm: optionalNumber(text('rpm')),
    tpm: optionalNumber(text('tpm')),
    max_parallel: optionalNumber(text('max_parallel')),
    models: optionalList(text('models')),
  };
}

function limitsText(texts: ReturnType<typeof useTexts>, row: Limits): string {
  const { t } = texts;
  const parts: string[] = [];
  if (row.rpm !== null) parts.push(t('keys.limit_rpm', { n: texts.number(row.rpm, 0) }));
  if (row.tpm !== null) parts.push(t('keys.limit_tpm', { n: texts.number(row.tpm, 0) }));
  if (row.max_parallel !== null) parts.push(t('keys.limit_parallel', { n: texts.number(row.max_parallel, 0) }));
  return parts.length === 0 ? t('keys.no_limits') : parts.join(', ');
}

function budgetText(texts: ReturnType<typeof useTexts>, row: Limits): string {
  return row.budget === null ? texts.t('keys.no_budget') : `${texts.usd(row.budget)} / ${texts.t(`period.${row.budget_period}` as MessageKey)}`;
}

/** Runs a change, reporting its outcome in the page's live region. */
function useAction(): { error: unknown; done: string | null; busy: boolean; run(action: () => Promise<string | null>): Promise<boolean> } {
  const [state, setState] = useState<{ error: unknown; done: string | null; busy: boolean }>({ error: null, done: null, busy: false });
  return {
    ...state,
    async run(action) {
      setState({ error: null, done: null, busy: true });
      try {
        const done = await action();
        setState({ error: null, done, busy: false });
        return true;
      } catch (error) {
        setState({ error, done: null, busy: false });
        return false;
      }
    },
  };
}

export function KeysAndTeams(props: { session: Session }): preact.JSX.Element {
  const directory = useLoad(loadDirectory, []);
  const action = useAction();
  return (
    <>
      <PageTitle text="nav.keys" />
      <Status error={action.error ?? directory.error} loading={directory.loading && directory.data === undefined} done={action.done} />
      {directory.data ? (
        <>
          <Teams teams={directory.data.teams} session={props.session} action={action} reload={directory.reload} />
          <Keys keys={directory.data.keys} teams={directory.data.teams} session={props.session} action={action} reload={directory.reload} />
        </>
      ) : null}
    </>
  );
}

type Action = ReturnType<typeof useAction>;

function Teams(props: { teams: TeamRow[]; session: Session; action: Action; reload(): void }): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const master = props.session.role === 'master';
  const editTeam = props.teams.find((team) => team.id === editing);

  return (
    <section aria-labelledby="teams-heading">
      <h2 id="teams-heading">{t('teams.heading')}</h2>
      <RowsTable headings={[t('common.name'), t('keys.state'), t('keys.budget'), t('keys.limits'), t('keys.models'), t('common.actions')]} empty={props.teams.length === 0}>
        {props.teams.map((team) => (
          <tr key={team.id}>
            <th scope="row">
              {team.name} <span class="muted mono">{team.id}</span>
            </th>
            <td>{t(`state.${team.state}` as MessageKey)}</td>
            <td>{budgetText(texts, team)}</td>
            <td>{limitsText(texts, team)}</td>
            <td>{team.models?.join(', ') ?? t('keys.all_models')}</td>
            <td class="actions">
              {master ? (
                <>
                  <button type="button" class="secondary" onClick={() => setEditing(team.id)} aria-label={t('teams.edit_named', { name: team.name })}>
                    {t('common.edit')}
                  </button>
                  <RemoveButton
                    asking={confirming === team.id}
                    ask={(asking) => setConfirming(asking ? team.id : null)}
                    label={t('common.delete')}
                    labelNamed={t('teams.delete_named', { name: team.name })}
                    confirm={t('teams.confirm_delete', { name: team.name })}
                    remove={async () => (await api('DELETE', `/admin/teams/${team.id}`), t('teams.deleted', { name: team.name }))}
                    action={props.action}
                    reload={props.reload}
                  />
                </>
              ) : null}
            </td>
          </tr>
        ))}
      </RowsTable>
      {editTeam ? (
        <EditForm
          headingId="edit-team-heading"
          heading={t('teams.edit_named', { name: editTeam.name })}
          action={props.action}
          save={async (form) => {
            await api('PATCH', `/admin/teams/${editTeam.id}`, {
              name: String(form.get('name')),
              state: String(form.get('state')),
              data_policy: parsePolicy(String(form.get('data_policy') ?? '')),
              ...readLimits(form),
            });
            return t('teams.saved', { name: String(form.get('name')) });
          }}
          close={() => setEditing(null)}
          reload={props.reload}
        >
          <Field label={t('common.name')}>
            <input name="name" required defaultValue={editTeam.name} />
          </Field>
          <Field label={t('keys.state')}>
            <Choice name="state" initial={editTeam.state} options={STATES.map((state) => ({ value: state, label: t(`state.${state}`) }))} />
          </Field>
          <LimitFields value={editTeam} />
          <PolicyField value={editTeam.data_policy ?? null} />
        </EditForm>
      ) : null}
      {master ? (
        <details class="card">
          <summary>{t('teams.create')}</summary>
          <CreateForm
            label={t('teams.create')}
            action={props.action}
            create={async (form) => {
              const name = String(form.get('name'));
              await api('POST', '/admin/teams', { name, data_policy: parsePolicy(String(form.get('data_policy') ?? '')), ...readLimits(form) });
              return t('teams.created', { name });
            }}
            reload={props.reload}
          >
            <Field label={t('common.name')}>
              <input name="name" required />
            </Field>
            <LimitFields />
            <PolicyField value={null} />
          </CreateForm>
        </details>
      ) : null}
    </section>
  );
}

function Keys(props: { keys: KeyRow[]; teams: TeamRow[]; session: Session; action: Action; reload(): void }): preact.JSX.Element {
  const texts = useTexts();
  const { t } = texts;
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ key: string; name: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const teamName = (id: string | null): string => (id === null ? '–' : (props.teams.find((team) => team.id === id)?.name ?? id));
  const editKey = props.keys.find((key) => key.id === editing);
  const label = (key: KeyRow): string => key.name ?? key.prefix;

  const showSecret = (key: string, name: string): void => {
    setCopied(false);
    setSecret({ key, name });
  };

  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">{t('keys.heading')}</h2>
      {secret ? (
        <div class="card secret" role="region" aria-labelledby="secret-heading">
          <h3 id="secret-heading">{t('keys.secret_heading', { name: secret.name })}</h3>
          <p>{t('keys.secret_once')}</p>
          <p class="secret-row">
            <code id="new-key" data-testid="new-key">
              {secret.key}
            </code>
            <button
              type="button"
              onClick={async () => {
                await navigator.clipboard.writeText(secret.key);
                setCopied(true);
              }}
            >
              {t('keys.copy')}
            </button>
            <span aria-live="polite">{copied ? t('keys.copied') : ''}</span>
          </p>
          <button type="button" class="secondary" onClick={() => setSecret(null)}>
            {t('keys.secret_done')}
          </button>
        </div>
      ) : null}
      <RowsTable
        headings={[t('common.name'), t('keys.prefix'), t('keys.team'), t('keys.role'), t('keys.state'), t('keys.budget'), t('keys.limits'), t('keys.created'), t('common.actions')]}
        empty={props.keys.length === 0}
      >
        {props.keys.map((key) => (
          <tr key={key.id} data-key-id={key.id}>
            <th scope="row">{key.name ?? '–'}</th>
            <td class="mono">{key.prefix}…</td>
            <td>{teamName(key.team_id)}</td>
            <td>{t(`role.${key.role}` as MessageKey)}</td>
            <td data-testid="key-state">{t(`state.${key.state}` as MessageKey)}</td>
            <td>{budgetText(texts, key)}</td>
            <td>{limitsText(texts, key)}</td>
            <td>{texts.dateTime(key.created_at)}</td>
            <td class="actions">
              {key.state === 'revoked' ? null : (
                <>
                  <button type="button" class="secondary" onClick={() => setEditing(key.id)} aria-label={t('keys.edit_named', { name: label(key) })}>
                    {t('common.edit')}
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    aria-label={t('keys.rotate_named', { name: label(key) })}
                    onClick={() =>
                      props.action.run(async () => {
                        const rotated = await api<{ key: string }>('POST', `/admin/keys/${key.id}/rotate`);
                        showSecret(rotated.key, label(key));
                        props.reload();
                        return t('keys.rotated', { name: label(key) });
                      })
                    }
                  >
                    {t('keys.rotate')}
                  </button>
                  <RemoveButton
                    asking={confirming === key.id}
                    ask={(asking) => setConfirming(asking ? key.id : null)}
                    label={t('keys.revoke')}
                    labelNamed={t('keys.revoke_named', { name: label(key) })}
                    confirm={t('keys.confirm_revoke', { name: label(key) })}
                    remove={async () => (await api('DELETE', `/admin/keys/${key.id}`), t('keys.revoked', { name: label(key) }))}
                    action={props.action}
                    reload={props.reload}
                  />
                </>
              )}
            </td>
          </tr>
        ))}
      </RowsTable>
      {editKey ? (
        <EditForm
          headingId="edit-key-heading"
          heading={t('keys.edit_named', { name: label(editKey) })}
          action={props.action}
          save={async (form) => {
            const name = String(form.get('name')).trim();
            await api('PATCH', `/admin/keys/${editKey.id}`, {
              name: name === '' ? null : name,
              role: String(form.get('role')),
              state: String(form.get('state')),
              data_policy: parsePolicy(String(form.get('data_policy') ?? '')),
              ...readLimits(form),
            });
            return t('keys.saved', { name: name === '' ? editKey.prefix : name });
          }}
          close={() => setEditing(null)}
          reload={props.reload}
        >
          <Field label={t('common.name')}>
            <input name="name" defaultValue={editKey.name ?? ''} />
          </Field>
          <Field label={t('keys.role')}>
            <Choice name="role" initial={editKey.role} options={ROLES.map((role) => ({ value: role, label: t(`role.${role}`) }))} />
          </Field>
          <Field label={t('keys.state')}>
            <Choice name="state" initial={editKey.state} options={STATES.map((state) => ({ value: state, label: t(`state.${state}`) }))} />
          </Field>
          <LimitFields value={editKey} />
          <PolicyField value={editKey.data_policy} />
        </EditForm>
      ) : null}
      <details class="card" open={props.keys.length === 0}>
        <summary>{t('keys.create')}</summary>
        <CreateForm
          label={t('keys.create')}
          action={props.action}
          create={async (form) => {
            const name = String(form.get('name')).trim();
            const team = String(form.get('team') ?? '');
            const expires = String(form.get('expires_at') ?? '');
            const created = await api<{ key: string; prefix: string }>('POST', '/admin/keys', {
              name: name === '' ? null : name,
              team: team === '' ? null : team,
              role: String(form.get('role')),
              expires_at: expires === '' ? null : new Date(expires).toISOString(),
              data_policy: parsePolicy(String(form.get('data_policy') ?? '')),
              ...readLimits(form),
            });
            showSecret(created.key, name === '' ? created.prefix : name);
            return t('keys.created_done', { name: name === '' ? created.prefix : name });
          }}
          reload={props.reload}
        >
          <Field label={t('common.name')}>
            <input name="name" />
          </Field>
          <Field label={t('keys.team')}>
            <Choice
              name="team"
              initial={props.session.team_id ?? ''}
              options={[...(props.session.role === 'master' ? [{ value: '', label: t('keys.no_team') }] : []), ...props.teams.map((team) => ({ value: team.id, label: team.name }))]}
            />
          </Field>
          <Field label={t('keys.role')}>
            <Choice name="role" initial="user" options={ROLES.map((role) => ({ value: role, label: t(`role.${role}`) }))} />
          </Field>
          <Field label={t('keys.expires')} hint={t('keys.expires_hint')}>
            <input name="expires_at" type="datetime-local" />
          </Field>
          <LimitFields />
          <PolicyField value={null} />
        </CreateForm>
      </details>
    </section>
  );
}

/** A table of rows with one heading per column; says so in one row when there are none. */
function RowsTable(props: { headings: readonly string[]; empty: boolean; children: ComponentChildren }): preact.JSX.Element {
  const { t } = useTexts();
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {props.headings.map((heading) => (
              <th key={heading} scope="col">
                {heading}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.empty ? (
            <tr>
              <td colSpan={props.headings.length} class="muted">
                {t('common.none')}
              </td>
            </tr>
          ) : null}
          {props.children}
        </tbody>
      </table>
    </div>
  );
}

/** Removal in two clicks: the first asks (the button turns into the confirmation), the second removes and reloads. */
function RemoveButton(props: {
  asking: boolean;
  ask(asking: boolean): void;
  label: string;
  labelNamed: string;
  confirm: string;
  remove(): Promise<string>;
  action: Action;
  reload(): void;
}): preact.JSX.Element {
  return props.asking ? (
    <button
      type="button"
      class="danger"
      onClick={async () => {
        props.ask(false);
        if (await props.action.run(props.remove)) props.reload();
      }}
    >
      {props.confirm}
    </button>
  ) : (
    <button type="button" class="secondary" onClick={() => props.ask(true)} aria-label={props.labelNamed}>
      {props.label}
    </button>
  );
}

/** The edit form of one row: Save runs `save` with the form's values, then closes it and reloads; Cancel closes it. */
function EditForm(props: {
  headingId: string;
  heading: string;
  action: Action;
  save(form: FormData): Promise<string>;
  close(): void;
  reload(): void;
  children: ComponentChildren;
}): preact.JSX.Element {
  const { t } = useTexts();
  return (
    <form
      class="card"
      aria-labelledby={props.headingId}
      onSubmit={async (event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        if (await props.action.run(() => props.save(form))) {
          props.close();
          props.reload();
        }
      }}
    >
      <h3 id={props.headingId}>{props.heading}</h3>
      <div class="grid">{props.children}</div>
      <div class="buttons">
        <button type="submit" disabled={props.action.busy}>{t('common.save')}</button>
        <button type="button" class="secondary" onClick={props.close}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

/** A create form: submitting runs `create` with the form's values, then empties the form and reloads. */
function CreateForm(props: { label: string; action: Action; create(form: FormData): Promise<string>; reload(): void; children: ComponentChildren }): preact.JSX.Element {
  return (
    <form
      aria-label={props.label}
      onSubmit={async (event) => {
        event.preventDefault();
        const element = event.currentTarget;
        const form = new FormData(element);
        if (await props.action.run(() => props.create(form))) {
          element.reset();
          props.reload();
        }
      }}
    >
      <div class="grid">{props.children}</div>
      <button type="submit" disabled={props.action.busy}>{props.label}</button>
    </form>
  );
}

/** A data policy (privacy, residency, log_bodies; docs/privacy.md) as JSON text. */
function PolicyField(props: { value: Record<string, unknown> | null }): preact.JSX.Element {
  const { t } = useTexts();
  return (
    <Field label={t('keys.data_policy')} hint={t('keys.data_policy_hint')}>
      <textarea name="data_policy" rows={3} defaultValue={props.value === null ? '' : JSON.stringify(props.value, null, 2)} />
    </Field>
  );
}

function parsePolicy(text: string): Record<string, unknown> | null {
  if (text.trim() === '') return null;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('data policy: a JSON object, e.g. {"pii": {"mode": "redact"}}');
  return value as Record<string, unknown>;
}
