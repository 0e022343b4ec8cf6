/**
 * The `pii` scenario of `npm run bench` (alone: `npm run bench:pii`): how long the PII guard takes
 * to scan one ~4,000-token prompt, in process, for three kinds of text — ordinary business prose
 * (English, German) with a few personal data items, text packed with personal data (built like
 * the evaluation set), and a code/JSON-heavy prompt — in `detect` mode (scan only) and in
 * `pseudonymize` mode (scan and replace, as `guardBody` does on a request). Target: median ≤ 1 ms.
 *
 * Environment: BENCH_PII_RUNS (measured scans per case, default 2000), BENCH_PII_WARMUP (scans per
 * case before measuring, default 300), BENCH_PII_TOKENS (prompt size, default 4000), BENCH_PII_NLP=1
 * (also measure `detect` with compromise, `nlp: true`).
 */
import { cpus, loadavg } from 'node:os';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { detectPii } from '../src/guard/pii/detect.js';
import { guardBody } from '../src/guard/pii/guard.js';
import type { PrivacyPolicy } from '../src/guard/pii/policy.js';
import { evaluationSet } from '../test/pii/eval-set.js';
import { FakeValues } from '../test/pii/fake-values.js';
import { envNumber } from './lib/env.js';

export const PII_TARGET_MEDIAN_US = 1000;

export const PII_TEXT_KINDS = ['business-en', 'business-de', 'pii-dense', 'code-json'] as const;
export type PiiTextKind = (typeof PII_TEXT_KINDS)[number];
export type PiiBenchMode = 'detect' | 'pseudonymize' | 'detect+nlp';

export interface PiiBenchSettings {
  readonly runs: number;
  readonly warmup: number;
  readonly tokens: number;
  readonly nlp: boolean;
}

export interface PiiText {
  readonly kind: PiiTextKind;
  readonly text: string;
  readonly tokens: number;
  readonly chars: number;
  /** Detections of a default scan (all types, no NLP): the same before and after any optimisation. */
  readonly detections: number;
}

export interface PiiCase {
  readonly kind: PiiTextKind;
  readonly mode: PiiBenchMode;
  readonly runs: number;
  readonly median_us: number;
  readonly p99_us: number;
  readonly mean_us: number;
  readonly max_us: number;
  readonly pass: boolean;
}

export interface PiiBenchResult {
  readonly settings: PiiBenchSettings;
  /** Other processes share the cores: the 1-minute load average before and after says how much. */
  readonly machine: { readonly cpus: number; readonly model: string; readonly load_average_before: number; readonly load_average_after: number };
  readonly target_median_us: number;
  readonly texts: readonly Omit<PiiText, 'text'>[];
  readonly cases: readonly PiiCase[];
}

// ---------------------------------------------------------------------------------------------
// The prompts

const BUSINESS_EN = [
  'Following up on yesterday\'s steering meeting, the team agreed to move the migration of the billing platform to the second quarter.',
  'The main risk remains the dependency on the legacy reporting service, which still runs on the old cluster and has no owner.',
  'Please review the attached draft of the service level agreement before Thursday; legal has asked for two changes to the liability clause.',
  'Our customer satisfaction score rose by four points compared with the previous quarter, mostly thanks to shorter response times in support.',
  'The vendor confirmed that the new release fixes the memory leak we reported, but the upgrade requires a maintenance window of about two hours.',
  'Finance would like a forecast of cloud costs for the next twelve months, broken down by product line and environment.',
  'We should document the onboarding process for new engineers, including access requests, the local setup and the first tasks.',
  'The marketing campaign for the spring launch will start in April; the budget was approved at the last board meeting.',
  'Several customers asked whether the export feature can include archived projects, which would need changes to the data model.',
  'The security review found no critical issues, but recommended rotating the service credentials more often and enabling audit logging everywhere.',
  'Hiring for the two open positions in the platform team is progressing, with final interviews planned for next week.',
  'The warehouse in the north region reported delays because of the strike, so deliveries may arrive two or three days late.',
  'Let us keep the scope of the pilot small: one department, one workflow, and a clear definition of success after six weeks.',
  'The contract renewal with the logistics partner includes a price increase of three percent, which is below inflation.',
  'Summarise the key points of the attached report in five bullet points for the management summary, in plain language.',
  'Please also check whether the numbers in table three match the figures we presented in the quarterly review.',
];

const BUSINESS_DE = [
  'Wie in der gestrigen Sitzung besprochen, verschieben wir die Umstellung der Buchhaltungssoftware auf das zweite Quartal.',
  'Das größte Risiko bleibt die Abhängigkeit vom alten Berichtssystem, für das es derzeit keinen Verantwortlichen gibt.',
  'Bitte prüfen Sie den beigefügten Entwurf der Rahmenvereinbarung bis Donnerstag; die Rechtsabteilung wünscht zwei Änderungen bei der Haftung.',
  'Die Kundenzufriedenheit ist im Vergleich zum Vorquartal um vier Punkte gestiegen, vor allem dank kürzerer Antwortzeiten im Support.',
  'Der Lieferant hat bestätigt, dass die neue Version das gemeldete Speicherproblem behebt; für das Update brauchen wir ein Wartungsfenster von zwei Stunden.',
  'Das Controlling bittet um eine Prognose der Cloud-Kosten für die nächsten zwölf Monate, aufgeschlüsselt nach Produktlinie und Umgebung.',
  'Wir sollten den Einarbeitungsprozess für neue Mitarbeitende dokumentieren, einschließlich Zugängen, Arbeitsplatz und ersten Aufgaben.',
  'Die Kampagne für die Frühjahrsmesse beginnt im April; das Budget wurde in der letzten Vorstandssitzung freigegeben.',
  'Mehrere Kunden fragen, ob der Export auch archivierte Projekte enthalten kann, was Änderungen am Datenmodell erfordern würde.',
  'Die Sicherheitsprüfung hat keine kritischen Befunde ergeben, empfiehlt aber, Zugangsdaten häufiger zu wechseln und Protokolle überall zu aktivieren.',
  'Die Besetzung der beiden offenen Stellen im Plattformteam kommt voran, die letzten Gespräche sind für nächste Woche geplant.',
  'Das Lager in der Region Nord meldet wegen des Streiks Verzögerungen, Lieferungen können zwei bis drei Tage später eintreffen.',
  'Halten wir den Umfang des Pilotprojekts klein: eine Abteilung, ein Ablauf und klare Erfolgskriterien nach sechs Wochen.',
  'Der Rahmenvertrag mit dem Logistikpartner sieht eine Preiserhöhung von drei Prozent vor, was unter der Inflationsrate liegt.',
  'Fassen Sie die wichtigsten Punkte des Berichts in fünf Stichpunkten für die Geschäftsführung zusammen, in einfacher Sprache.',
  'Bitte prüfen Sie außerdem, ob die Zahlen in Tabelle drei mit den Werten aus dem Quartalsbericht übereinstimmen.',
];

/** Appends pieces from `next` until the text reaches `tokens` (counted on the whole text: pieces merge at their seams). */
function fillTo(tokens: number, head: string, tail: string, next: () => string): string {
  let body = '';
  while (countTokens(head + body + tail) < tokens) body += next();
  return head + body + tail;
}

function businessText(fake: FakeValues, tokens: number, language: 'en' | 'de'): string {
  const sentences = language === 'en' ? BUSINESS_EN : BUSINESS_DE;
  let paragraph = 0;
  // A few personal data items, as ordinary mails and notes carry them: a greeting, a contact line in
  // the middle, bank details and a signature.
  const middle =
    language === 'en'
      ? `For questions about the invoice, contact Mr. Taylor at j.taylor@example.com or +44 20 7946 0958. `
      : `Rückfragen zur Rechnung bitte an Frau Hinterberger, m.hinterberger@example.de, Tel. 030 12345678. `;
  const head = language === 'en' ? 'Dear Ms. Okafor,\n\n' : 'Sehr geehrte Frau Quandt,\n\n';
  const tail =
    language === 'en'
      ? `\n\nPayment to ${fake.iban('GB')} as usual.\n\nBest regards,\nEmily Featherstone`
      : `\n\nBitte überweisen Sie auf ${fake.iban('DE')}.\n\nViele Grüße\nWendelin Pfeiffer`;
  return fillTo(tokens, head, tail, () => {
    let piece = '';
    for (let i = 0; i < 4; i++) piece += `${fake.pick(sentences)} `;
    if (++paragraph === 8) piece += middle;
    return `${piece.trimEnd()}\n\n`;
  });
}

function piiDenseText(fake: FakeValues, tokens: number): string {
  const samples = evaluationSet(40, 4242).map((sample) => sample.text);
  return fillTo(tokens, '', '', () => `${samples[fake.int(samples.length)]!}\n`);
}

const CODE = [
  `export async function loadOrders(db: Database, customerId: string, limit = 50): Promise<Order[]> {\n  const rows = await db.query('SELECT id, total, created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT $2', [customerId, limit]);\n  return rows.map((row) => ({ id: row.id, total: Number(row.total), createdAt: new Date(row.created_at) }));\n}\n`,
  `function retry<T>(fn: () => Promise<T>, attempts = 3, delayMs = 200): Promise<T> {\n  return fn().catch((error: unknown) => {\n    if (attempts <= 1) throw error;\n    return new Promise((resolve) => setTimeout(resolve, delayMs)).then(() => retry(fn, attempts - 1, delayMs * 2));\n  });\n}\n`,
  `class RateLimiter {\n  private readonly buckets = new Map<string, { tokens: number; updatedAt: number }>();\n  constructor(private readonly perSecond: number, private readonly burst: number) {}\n  take(key: string, now = Date.now()): boolean {\n    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };\n    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.perSecond);\n    bucket.updatedAt = now;\n    this.buckets.set(key, bucket);\n    if (bucket.tokens < 1) return false;\n    bucket.tokens -= 1;\n    return true;\n  }\n}\n`,
  `def parse_config(path: str) -> dict:\n    with open(path, encoding="utf-8") as handle:\n        data = yaml.safe_load(handle) or {}\n    if "version" not in data:\n        raise ValueError(f"{path}: missing version")\n    return {key: value for key, value in data.items() if not key.startswith("_")}\n`,
];

function jsonRecord(fake: FakeValues, i: number): string {
  const record = {
    id: `ord_${fake.digits(12)}`,
    sku: `SKU-${fake.digits(6)}`,
    version: `${fake.int(5)}.${fake.int(20)}.${fake.int(30)}`,
    created_at: `2024-0${1 + fake.int(9)}-1${fake.int(9)}T1${fake.int(9)}:${10 + fake.int(49)}:00Z`,
    amount: Number(`${fake.int(9999)}.${fake.digits(2)}`),
    currency: fake.pick(['EUR', 'USD', 'GBP']),
    status: fake.pick(['paid', 'pending', 'refunded', 'failed']),
    hash: Array.from({ length: 4 }, () => fake.int(0xffff_ffff).toString(16).padStart(8, '0')).join(''),
    tags: [fake.pick(['priority', 'export', 'b2b', 'retail']), `region-${fake.pick(['eu', 'us', 'apac'])}`],
    ...(i % 25 === 7 ? { contact: 'billing@example.org', ip: `10.0.${fake.int(255)}.${1 + fake.int(254)}` } : {}),
  };
  return JSON.stringify(record, null, 2);
}

function codeJsonText(fake: FakeValues, tokens: number): string {
  let n = 0;
  const head = 'Why does this handler return duplicated orders? Here is the code and a sample of the API response:\n\n```ts\n';
  return fillTo(tokens, head, '\n```\n', () => {
    n++;
    if (n % 3 === 0) return `${fake.pick(CODE)}\n`;
    if (n % 7 === 0) return `2024-05-1${fake.int(9)}T0${fake.int(9)}:12:0${fake.int(9)}.${fake.digits(3)}Z INFO request_id=${fake.digits(8)} route=/v1/orders status=200 duration_ms=${fake.int(900)} client=192.168.${fake.int(255)}.${1 + fake.int(254)}\n`;
    return `${jsonRecord(fake, n)},\n`;
  });
}

export function buildPiiTexts(tokens: number): PiiText[] {
  const fake = new FakeValues(1234);
  const texts: Record<PiiTextKind, string> = {
    'business-en': businessText(fake, tokens, 'en'),
    'business-de': businessText(fake, tokens, 'de'),
    'pii-dense': piiDenseText(fake, tokens),
    'code-json': codeJsonText(fake, tokens),
  };
  return PII_TEXT_KINDS.map((kind) => {
    // As the gateway sees a prompt: one flat string out of JSON.parse, not the rope of pieces built above.
    const text = JSON.parse(JSON.stringify(texts[kind])) as string;
    return { kind, text, tokens: countTokens(text), chars: text.length, detections: detectPii(text).length };
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring

const PSEUDONYMIZE: PrivacyPolicy = { mode: 'pseudonymize', types: undefined, thresholds: {}, nlp: false };

/** One scan of `text` in `mode`; returns something derived from the result so nothing is optimised away. */
function scanOnce(text: string, mode: PiiBenchMode): number {
  if (mode === 'detect') return detectPii(text).length;
  if (mode === 'detect+nlp') return detectPii(text, { nlp: true }).length;
  // A fresh body each time: guardBody replaces the texts in place.
  const body = { model: 'bench', messages: [{ role: 'user', content: text }] };
  return guardBody(body, PSEUDONYMIZE).pseudonyms?.size ?? 0;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * Warm-up, then `runs` timed scans per case. The cases take turns in rounds so that a noisy moment
 * on the (shared) machine hits all of them alike instead of spoiling one.
 */
export function runPiiBench(settings: PiiBenchSettings, log: (line: string) => void = () => {}): PiiBenchResult {
  const loadBefore = loadavg()[0]!;
  const texts = buildPiiTexts(settings.tokens);
  const modes: PiiBenchMode[] = settings.nlp ? ['detect', 'pseudonymize', 'detect+nlp'] : ['detect', 'pseudonymize'];
  const specs = texts.flatMap((text) => modes.map((mode) => ({ text, mode })));
  const rounds = Math.max(1, Math.min(20, settings.runs));
  const timings = specs.map(() => new Float64Array(settings.runs));
  let sink = 0;
  for (const { text, mode } of specs) for (let i = 0; i < settings.warmup; i++) sink += scanOnce(text.text, mode);
  for (let round = 0; round < rounds; round++) {
    const from = Math.floor((round * settings.runs) / rounds);
    const to = Math.floor(((round + 1) * settings.runs) / rounds);
    specs.forEach(({ text, mode }, s) => {
      const times = timings[s]!;
      for (let i = from; i < to; i++) {
        const started = process.hrtime.bigint();
        sink += scanOnce(text.text, mode);
        times[i] = Number(process.hrtime.bigint() - started) / 1000;
      }
    });
  }
  if (sink < 0) log('unreachable');
  const cases = specs.map(({ text, mode }, s): PiiCase => {
    const sorted = timings[s]!.slice().sort();
    const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
    const median = percentile(sorted, 50);
    const result = {
      kind: text.kind,
      mode,
      runs: sorted.length,
      median_us: round1(median),
      p99_us: round1(percentile(sorted, 99)),
      mean_us: round1(mean),
      max_us: round1(sorted[sorted.length - 1]!),
      pass: median <= PII_TARGET_MEDIAN_US,
    };
    log(`  pii ${`${text.kind} ${mode}`.padEnd(36)} median ${result.median_us.toFixed(1).padStart(8)} µs  p99 ${result.p99_us.toFixed(1).padStart(8)} µs`);
    return result;
  });
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? '?', load_average_before: round1(loadBefore), load_average_after: round1(loadavg()[0]!) };
  return { settings, machine, target_median_us: PII_TARGET_MEDIAN_US, texts: texts.map(({ text: _text, ...rest }) => rest), cases };
}

export function piiSettings(number: (name: string, fallback: number, min: number) => number): PiiBenchSettings {
  return {
    runs: Math.round(number('BENCH_PII_RUNS', 2000, 1)),
    warmup: Math.round(number('BENCH_PII_WARMUP', 300, 0)),
    tokens: Math.round(number('BENCH_PII_TOKENS', 4000, 10)),
    nlp: process.env.BENCH_PII_NLP === '1',
  };
}

export function formatPii(result: PiiBenchResult): string {
  const s = result.settings;
  const lines = [
    `PII scan: one prompt of ~${s.tokens} tokens (o200k_base) per scan, in process; ${s.warmup} warm-up scans, then ${s.runs} timed scans per case, ` +
      `the cases taking turns. Target: median <= ${result.target_median_us} µs`,
    `Machine: ${result.machine.cpus} cores (${result.machine.model}); load average ${result.machine.load_average_before} before, ${result.machine.load_average_after} after ` +
      `(much above 0 means other processes shared the cores and the times are inflated)`,
  ];
  const header = ['text', 'tokens', 'chars', 'found', 'mode', 'median µs', 'p99 µs', 'mean µs', 'max µs', 'result'];
  const rows = result.cases.map((k) => {
    const text = result.texts.find((t) => t.kind === k.kind)!;
    return [
      k.kind,
      String(text.tokens),
      String(text.chars),
      String(text.detections),
      k.mode,
      k.median_us.toFixed(1),
      k.p99_us.toFixed(1),
      k.mean_us.toFixed(1),
      k.max_us.toFixed(1),
      k.mode === 'detect+nlp' ? '-' : k.pass ? 'PASS' : 'FAIL',
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 || i === 4 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  lines.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line));
  lines.push('found: detections of a default scan (all types, no NLP). pseudonymize: scan and replace of a one-message request (guardBody).');
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = runPiiBench(piiSettings(envNumber), (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`\n${formatPii(result)}\n`);
}
