/**
 * The shipped price table: USD per million tokens for common models of the cloud providers,
 * standard (on-demand, non-batch) tier, prompts within the base context tier. Keys are the
 * upstream model id or its prefix (a dated snapshot such as `gpt-4o-2024-08-06` finds `gpt-4o`;
 * the longest matching key wins). A deployment's `price` overrides its entry.
 *
 * Every entry names its source and the date it was checked. `note` says where a figure is
 * uncertain (checked only against secondary copies of the provider's page, or remembered).
 * Prices change: update an entry by editing it here and its date.
 */
export interface TablePrice {
  readonly input: number;
  /** Cache hits / cached prompt tokens; absent: the provider has no discount (full input price). */
  readonly cachedInput?: number;
  readonly output: number;
  /** YYYY-MM-DD */
  readonly checked: string;
  readonly source: string;
  readonly note?: string;
}

const OPENAI = 'https://openai.com/api/pricing (platform.openai.com/docs/pricing)';
const ANTHROPIC = 'https://docs.anthropic.com/en/docs/about-claude/pricing';
const GEMINI = 'https://ai.google.dev/gemini-api/docs/pricing';
const BEDROCK = 'https://aws.amazon.com/bedrock/pricing/ (us-east-1, on-demand)';
const MISTRAL = 'https://mistral.ai/pricing#api-pricing';
const AZURE = 'https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/ (Global deployment)';

const CHECKED = '2026-11-26';
const SECONDARY = 'checked against secondary copies of the official page, not the page itself';
const RECALLED = 'not re-checked against a source on the date given: verify before relying on it';

function p(input: number, cachedInput: number | undefined, output: number, source: string, note?: string): TablePrice {
  const price: { -readonly [K in keyof TablePrice]: TablePrice[K] } = { input, output, checked: CHECKED, source };
  if (cachedInput !== undefined) price.cachedInput = cachedInput;
  if (note !== undefined) price.note = note;
  return price;
}

const OPENAI_MODELS: Readonly<Record<string, TablePrice>> = {
  'gpt-5': p(1.25, 0.125, 10, OPENAI, SECONDARY),
  'gpt-5-mini': p(0.25, 0.025, 2, OPENAI, SECONDARY),
  'gpt-5-nano': p(0.05, 0.005, 0.4, OPENAI, RECALLED),
  'gpt-4.1': p(2, 0.5, 8, OPENAI, SECONDARY),
  'gpt-4.1-mini': p(0.4, 0.1, 1.6, OPENAI, SECONDARY),
  'gpt-4.1-nano': p(0.1, 0.025, 0.4, OPENAI, RECALLED),
  'gpt-4o': p(2.5, 1.25, 10, OPENAI, SECONDARY),
  'gpt-4o-mini': p(0.15, 0.075, 0.6, OPENAI, SECONDARY),
  o3: p(2, 0.5, 8, OPENAI, SECONDARY),
  'o3-mini': p(1.1, 0.55, 4.4, OPENAI, SECONDARY),
  'o4-mini': p(1.1, 0.275, 4.4, OPENAI, RECALLED),
  o1: p(15, 7.5, 60, OPENAI, SECONDARY),
  'gpt-3.5-turbo': p(0.5, undefined, 1.5, OPENAI, SECONDARY),
  'text-embedding-3-small': p(0.02, undefined, 0, OPENAI, SECONDARY),
  'text-embedding-3-large': p(0.13, undefined, 0, OPENAI, SECONDARY),
};

/** Azure OpenAI's Global deployments are priced as OpenAI's; Data Zone and Regional ones cost about 10% more (not modelled: override with `price`). */
const AZURE_MODELS: Readonly<Record<string, TablePrice>> = Object.fromEntries(
  Object.entries(OPENAI_MODELS).map(([model, price]) => [model, { ...price, source: AZURE, note: 'Global deployment price, taken equal to OpenAI list price; ' + (price.note ?? '') }]),
);

const ANTHROPIC_MODELS: Readonly<Record<string, TablePrice>> = {
  'claude-opus-4-5': p(5, 0.5, 25, ANTHROPIC, SECONDARY),
  'claude-opus-4-1': p(15, 1.5, 75, ANTHROPIC),
  'claude-opus-4': p(15, 1.5, 75, ANTHROPIC),
  'claude-sonnet-4-5': p(3, 0.3, 15, ANTHROPIC, SECONDARY),
  'claude-sonnet-4': p(3, 0.3, 15, ANTHROPIC),
  'claude-3-7-sonnet': p(3, 0.3, 15, ANTHROPIC),
  'claude-3-5-sonnet': p(3, 0.3, 15, ANTHROPIC),
  'claude-haiku-4-5': p(1, 0.1, 5, ANTHROPIC, SECONDARY),
  'claude-3-5-haiku': p(0.8, 0.08, 4, ANTHROPIC),
  'claude-3-haiku': p(0.25, 0.03, 1.25, ANTHROPIC),
  'claude-3-opus': p(15, 1.5, 75, ANTHROPIC),
};

const GEMINI_MODELS: Readonly<Record<string, TablePrice>> = {
  'gemini-2.5-pro': p(1.25, 0.125, 10, GEMINI, 'prompts up to 200k tokens; cached price was 0.31 before a 2025 cut; ' + SECONDARY),
  'gemini-2.5-flash': p(0.3, 0.075, 2.5, GEMINI, 'cached price may since have been cut to 0.03; ' + SECONDARY),
  'gemini-2.5-flash-lite': p(0.1, 0.025, 0.4, GEMINI, SECONDARY),
  'gemini-2.0-flash': p(0.1, 0.025, 0.4, GEMINI, RECALLED),
  'gemini-2.0-flash-lite': p(0.075, undefined, 0.3, GEMINI, RECALLED),
};

const BEDROCK_MODELS: Readonly<Record<string, TablePrice>> = {
  'anthropic.claude-opus-4-1': p(15, 1.5, 75, BEDROCK, 'equal to Anthropic list price; ' + RECALLED),
  'anthropic.claude-opus-4': p(15, 1.5, 75, BEDROCK, 'equal to Anthropic list price; ' + RECALLED),
  'anthropic.claude-sonnet-4': p(3, 0.3, 15, BEDROCK, 'equal to Anthropic list price; ' + RECALLED),
  'anthropic.claude-3-7-sonnet': p(3, 0.3, 15, BEDROCK, 'equal to Anthropic list price; ' + RECALLED),
  'anthropic.claude-3-5-sonnet': p(3, 0.3, 15, BEDROCK, 'equal to Anthropic list price; ' + RECALLED),
  'anthropic.claude-3-5-haiku': p(0.8, 0.08, 4, BEDROCK, 'equal to Anthropic list price; ' + RECALLED),
  'anthropic.claude-3-haiku': p(0.25, 0.03, 1.25, BEDROCK, RECALLED),
  'meta.llama3-1-8b-instruct': p(0.22, undefined, 0.22, BEDROCK, RECALLED),
  'meta.llama3-1-70b-instruct': p(0.72, undefined, 0.72, BEDROCK, RECALLED),
  'meta.llama3-3-70b-instruct': p(0.72, undefined, 0.72, BEDROCK, RECALLED),
  'amazon.nova-micro': p(0.035, 0.00875, 0.14, BEDROCK, RECALLED),
  'amazon.nova-lite': p(0.06, 0.015, 0.24, BEDROCK, RECALLED),
  'amazon.nova-pro': p(0.8, 0.2, 3.2, BEDROCK, RECALLED),
  'mistral.mistral-large': p(4, undefined, 12, BEDROCK, 'mistral-large-2402 on Bedrock; ' + RECALLED),
};

const MISTRAL_MODELS: Readonly<Record<string, TablePrice>> = {
  'mistral-large': p(2, undefined, 6, MISTRAL, RECALLED),
  'mistral-medium': p(0.4, undefined, 2, MISTRAL, 'Mistral Medium 3; ' + RECALLED),
  'mistral-small': p(0.1, undefined, 0.3, MISTRAL, 'Mistral Small 3.x; ' + RECALLED),
  codestral: p(0.3, undefined, 0.9, MISTRAL, RECALLED),
  'ministral-8b': p(0.1, undefined, 0.1, MISTRAL, RECALLED),
  'ministral-3b': p(0.04, undefined, 0.04, MISTRAL, RECALLED),
  'open-mistral-nemo': p(0.15, undefined, 0.15, MISTRAL, RECALLED),
  'mistral-embed': p(0.1, undefined, 0, MISTRAL, RECALLED),
};

/** Per provider of src/providers (Vertex serves Google's models at Gemini's list prices). */
export const PRICE_TABLE: Readonly<Record<string, Readonly<Record<string, TablePrice>>>> = {
  openai: OPENAI_MODELS,
  azure: AZURE_MODELS,
  anthropic: ANTHROPIC_MODELS,
  gemini: GEMINI_MODELS,
  vertex: GEMINI_MODELS,
  bedrock: BEDROCK_MODELS,
  mistral: MISTRAL_MODELS,
};

/** Bedrock's cross-region inference profiles put a geography before the model id. */
const BEDROCK_GEOGRAPHY = /^(?:us|eu|apac|global|us-gov|jp|au|ca)\./;

/** The table's price for a provider's model id, or null. Snapshots and versions match their family's key. */
export function lookupPrice(provider: string, upstreamModel: string): TablePrice | null {
  const models = PRICE_TABLE[provider];
  if (models === undefined) return null;
  let model = upstreamModel.toLowerCase();
  const slash = model.lastIndexOf('/');
  if (slash !== -1) model = model.slice(slash + 1);
  if (provider === 'bedrock') model = model.replace(BEDROCK_GEOGRAPHY, '');
  if (Object.hasOwn(models, model)) return models[model]!;
  let best: string | null = null;
  for (const key in models) {
    if (model.length > key.length && model.startsWith(key) && /[-:@.]/.test(model[key.length]!) && (best === null || key.length > best.length)) best = key;
  }
  return best === null ? null : models[best]!;
}
