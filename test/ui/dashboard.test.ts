import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEmulator, type Emulator } from '../emulators/openai-compatible.js';
import { startGateway, type RunningGateway } from '../helpers/gateway.js';
import { ensureUiBuilt } from './build-ui.js';

/**
 * The dashboard in a real browser (Debian's headless Chromium) against a real gateway serving
 * the built dashboard: sign in, create a team and a key, use the key with the OpenAI SDK, find
 * the request and its spend, revoke the key, switch to German. Every page is photographed into
 * test-artifacts/ui/.
 */

const CHROMIUM = '/usr/bin/chromium';
const MASTER = 'master-key-dashboard-test';
const ARTIFACTS = new URL('../../test-artifacts/ui/', import.meta.url);
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (install Debian's chromium; .ci/run does)`;

let emulator: Emulator;
let running: RunningGateway;
let browser: Browser;
let page: Page;
const browserProblems: string[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
}

/** Opens a page from the navigation and waits for its heading. */
async function open(link: string, heading = link): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
}

/** Repeats `attempt` (e.g. pressing Refresh and looking) until it returns true, or fails at the deadline. */
async function until(what: string, attempt: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) if (await attempt()) return;
  assert.fail(`timed out waiting for ${what}`);
}

describe('dashboard in a browser', { skip }, () => {
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureUiBuilt();
    emulator = await startEmulator();
    running = await startGateway(`
auth: { master_key: ${MASTER} }
models:
  - name: chat
    deployments:
      - provider: openai-compatible
        name: emu-eu
        base_url: ${emulator.url}
        model: emu-model
        api_key: upstream-secret
        region: eu-central-1
        price: { input_per_1m: 1000, output_per_1m: 2000 }
  - name: local
    deployments:
      - { provider: openai-compatible, name: gpu-1, base_url: "${emulator.url}", model: emu-model, kind: self-hosted, engine: ollama }
`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => browserProblems.push(`page error: ${error.message}`));
    // A Content-Security-Policy violation or a script error shows on the console. Answers that
    // are not 2xx are the pages' business (the session check's 401, a probe's 404); a 5xx is not.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) browserProblems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 500) browserProblems.push(`${response.status()} from ${response.url()}`);
    });
  });
  after(async () => {
    await browser?.close();
    await running?.close();
    await emulator?.close();
  });

  test('sign in, manage keys, use a key, see its request and spend, revoke it, switch to German', async () => {
    try {
      await flow();
    } catch (error) {
      await shot('failure').catch(() => {});
      throw error;
    }
  });

  test('a team admin sees its team only, and revoking its key sends it back to sign-in', async () => {
    const admin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
      const response = await fetch(running.url + path, {
        method,
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      assert.ok(response.ok, `${method} ${path}: ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    };
    const team = await admin('POST', '/admin/teams', { name: 'Research' });
    const adminKey = await admin('POST', '/admin/keys', { name: 'research-admin', team: team.id, role: 'admin' });
    await admin('POST', '/admin/keys', { name: 'research-app', team: team.id });
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const own = await context.newPage();
      own.setDefaultTimeout(10_000);
      await own.goto(`${running.url}/ui/keys`);
      await own.getByLabel('Master or admin key').fill(adminKey.key as string);
      await own.getByRole('button', { name: 'Sign in' }).click();
      await own.getByText('Team admin').waitFor();
      await own.getByRole('heading', { level: 1, name: 'Keys & teams' }).waitFor();
      await own.getByRole('row', { name: /research-app/ }).waitFor();
      assert.equal(await own.getByRole('row', { name: /reporting/ }).count(), 0, 'keys of other teams are not shown');

      await admin('DELETE', `/admin/keys/${adminKey.id as string}`);
      await own.getByRole('navigation').getByRole('link', { name: 'Models & routing' }).click();
      await own.getByText('Your session has ended. Please sign in again.').waitFor();
      await own.getByRole('heading', { level: 1, name: 'Sign in to Stellwerk' }).waitFor();
    } finally {
      await context.close();
    }
  });
});

async function flow(): Promise<void> {
  {
    await page.goto(`${running.url}/ui/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to Stellwerk' }).waitFor();
    await shot('signin');
    // Before the key field come the language switch and, first of all, the skip link; the
    // keyboard focus is visibly outlined.
    await page.getByLabel('Master or admin key').focus();
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'SELECT');
    await page.keyboard.press('Shift+Tab');
    const focused = await page.evaluate(() => ({ text: document.activeElement?.textContent, outline: getComputedStyle(document.activeElement!).outlineStyle }));
    assert.deepEqual(focused, { text: 'Skip to content', outline: 'solid' });
    await page.getByLabel('Master or admin key').fill('sk-stw-wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This key cannot sign in').waitFor();
    await page.getByLabel('Master or admin key').fill(MASTER);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

    // A team, then a key of that team with a budget; the key's secret is on the page once.
    await open('Keys & teams');
    await page.getByText('Create team', { exact: true }).first().click();
    const teamForm = page.getByRole('form', { name: 'Create team' });
    await teamForm.getByLabel('Name').fill('Finance');
    await teamForm.getByRole('button', { name: 'Create team' }).click();
    await page.getByText('Team Finance created.').waitFor();
    await page.getByRole('row', { name: /Finance/ }).waitFor();

    const keyForm = page.getByRole('form', { name: 'Create key' });
    await keyForm.getByLabel('Name').fill('reporting');
    await keyForm.getByLabel('Team').selectOption({ label: 'Finance' });
    await keyForm.getByLabel('Budget (USD)').fill('5');
    await keyForm.getByLabel('Data policy (JSON)').fill('{"log_bodies": true}');
    await keyForm.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key').textContent())?.trim() ?? '';
    assert.match(secret, /^sk-stw-[0-9A-Za-z]{43}$/);
    await page.getByRole('row', { name: /reporting/ }).filter({ hasText: '$5.00 / month' }).waitFor();
    await shot('keys');

    // The key works through the API with the official SDK.
    const client = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: secret, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'Quarterly numbers, please.' }] });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');

    // Its request shows on the Requests page (request rows are written in batches: refresh until it is there).
    await open('Requests');
    const row = page.locator('tbody tr[data-request-id]').filter({ hasText: 'reporting' });
    await until('the request in the list', async () => {
      await Promise.all([page.waitForResponse((r) => r.url().includes('/admin/requests?')), page.getByRole('button', { name: 'Refresh' }).click()]);
      return (await row.count()) > 0;
    });
    assert.match((await row.first().textContent()) ?? '', /chat.*emu-eu.*200/);
    await shot('requests');
    // Filters go to the API: no 5xx answers here, and the request is back after a reset.
    await page.getByLabel('Status').fill('5xx');
    await Promise.all([page.waitForResponse((r) => r.url().includes('status=5xx')), page.getByRole('button', { name: 'Apply' }).click()]);
    await page.getByRole('cell', { name: 'Nothing to show yet.' }).waitFor();
    await page.getByRole('button', { name: 'Reset' }).click();
    await row.first().waitFor();
    await row.first().getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'Request' }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Attempts' }).waitFor();
    await page.getByRole('row', { name: /emu-eu.*200/ }).waitFor();
    // The body has its own write batch, which may land a moment after the row the list showed.
    const body = page.locator('pre.body').filter({ hasText: 'Quarterly numbers, please.' });
    await until('the logged body', async () => {
      await Promise.all([page.waitForResponse((r) => r.url().endsWith('/body')), page.getByRole('button', { name: 'Show body' }).click()]);
      return (await body.count()) > 0;
    });
    await shot('request-detail');

    // Its spend shows on the Overview.
    await open('Overview');
    const spendToday = page.getByTestId('spend-today');
    await until('spend today above zero', async () => {
      const range = (await page.getByLabel('1 hour').isChecked()) ? '24 hours' : '1 hour';
      await Promise.all([page.waitForResponse((r) => r.url().includes('/admin/stats?')), page.getByLabel(range).check()]);
      const text = (await spendToday.textContent()) ?? '';
      return Number(text.replace(/[^0-9.]/g, '')) > 0;
    });
    await page.getByRole('figure').first().waitFor();
    await shot('overview');

    await open('Spend & energy');
    await page.getByRole('row', { name: /Finance/ }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Budgets' }).waitFor();
    await page.getByRole('listitem').filter({ hasText: 'reporting' }).getByRole('meter').waitFor();
    const csv = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert.match(csv ?? '', /^\/admin\/usage\?.*format=csv/);
    const exported = await page.evaluate(async (href) => {
      const response = await fetch(href!);
      return { type: response.headers.get('content-type'), text: await response.text() };
    }, csv);
    assert.match(exported.type ?? '', /^text\/csv/);
    assert.match(exported.text.split('\n')[0]!, /^team,requests,/);
    await shot('spend');

    await open('Models & routing');
    await page.getByRole('heading', { level: 2, name: 'chat' }).waitFor();
    await page.getByRole('row', { name: /emu-eu/ }).waitFor();
    await shot('models');

    await open('Audit');
    await page.getByTestId('chain-status').filter({ hasText: 'Intact' }).waitFor();
    await page.getByRole('cell', { name: 'key.created', exact: true }).first().waitFor();
    await shot('audit');
    // The Fleet page is there because a self-hosted server is configured; it reads itself again every few seconds.
    await open('Fleet');
    await page.getByRole('row', { name: /gpu-1 \(local\)/ }).waitFor();
    await page.waitForResponse((r) => r.url().endsWith('/admin/fleet'));
    await shot('fleet');

    // Limits are edited in place; rotation shows a new secret, which works at once.
    await open('Keys & teams');
    await page.getByRole('button', { name: 'Edit key reporting' }).click();
    const editForm = page.getByRole('form', { name: 'Edit key reporting' });
    await editForm.getByLabel('Requests per minute').fill('60');
    await editForm.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Key reporting saved.').waitFor();
    await page.getByRole('row', { name: /reporting/ }).filter({ hasText: '60/min' }).waitFor();
    await page.getByRole('button', { name: 'Rotate key reporting' }).click();
    await page.getByText('Key reporting has a new secret.').waitFor();
    const rotated = (await page.getByTestId('new-key').textContent())?.trim() ?? '';
    assert.match(rotated, /^sk-stw-[0-9A-Za-z]{43}$/);
    assert.notEqual(rotated, secret);
    const rotatedClient = new OpenAI({ baseURL: `${running.url}/v1`, apiKey: rotated, maxRetries: 0 });
    assert.equal((await rotatedClient.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })).choices[0]!.finish_reason, 'stop');

    // Revoking the key in the dashboard makes the API refuse it (old and new secret) at once.
    await page.getByRole('button', { name: 'Revoke key reporting' }).click();
    await page.getByRole('button', { name: 'Really revoke reporting?' }).click();
    await page.getByText('Key reporting revoked.').waitFor();
    await page.getByRole('row', { name: /reporting/ }).getByTestId('key-state').filter({ hasText: 'revoked' }).waitFor();
    await assert.rejects(
      client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'again' }] }),
      (error: unknown) => error instanceof OpenAI.AuthenticationError && error.status === 401,
    );
    await assert.rejects(
      rotatedClient.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'again' }] }),
      (error: unknown) => error instanceof OpenAI.AuthenticationError && error.status === 401,
    );

    // German at once, and kept across a reload.
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { level: 1, name: 'Schlüssel & Teams' }).waitFor();
    // Stored as it is made, not after the next paint (a reload straight after the choice, on a
    // slow machine, came back in the old language): read in the same task as the change event.
    const stored = await page.evaluate(() => {
      const select = document.querySelector('label.lang select') as HTMLSelectElement;
      select.value = 'en';
      select.dispatchEvent(new Event('change', { bubbles: true }));
      const afterEnglish = localStorage.getItem('stellwerk.lang');
      select.value = 'de';
      select.dispatchEvent(new Event('change', { bubbles: true }));
      return [afterEnglish, localStorage.getItem('stellwerk.lang')];
    });
    assert.deepEqual(stored, ['en', 'de']);
    await page.reload();
    await page.getByRole('navigation').getByRole('link', { name: 'Übersicht' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    await page.getByRole('navigation').getByRole('link', { name: 'Übersicht' }).click();
    await page.getByRole('heading', { level: 1, name: 'Übersicht' }).waitFor();
    await page.getByText('Kosten heute').waitFor();
    // German number format: a decimal comma, the currency sign after the amount.
    assert.match((await page.getByTestId('spend-today').textContent()) ?? '', /^0,\d+\s\$$/);
    await shot('overview-de');

    // Signing out ends the session: the pages ask for the key again.
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('heading', { level: 1, name: 'Bei Stellwerk anmelden' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Bei Stellwerk anmelden' }).waitFor();

    assert.deepEqual(browserProblems, []);
  }
}
