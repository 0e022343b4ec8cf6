/**
 * Yearly average carbon intensity of electricity generation by country, in gCO₂e/kWh
 * (lifecycle, all gases, 100-year GWP), data year 2023.
 *
 * Source: Ember, Yearly Electricity Data (2024 release), as published by Our World in Data,
 * "Carbon intensity of electricity generation" (ourworldindata.org/grapher/carbon-intensity-electricity),
 * checked 2025-06. Entries marked `approx` were not read from that table when this was written
 * and carry the value remembered from the same Ember release: verify before relying on them.
 */
export interface GridIntensity {
  readonly gPerKWh: number;
  readonly year: number;
  readonly approx?: true;
}

const EMBER_2023 = (gPerKWh: number, approx?: true): GridIntensity => (approx ? { gPerKWh, year: 2023, approx } : { gPerKWh, year: 2023 });

export const GRID_INTENSITY: Readonly<Record<string, GridIntensity>> = {
  AT: EMBER_2023(111),
  AU: EMBER_2023(549),
  BE: EMBER_2023(138),
  BG: EMBER_2023(335),
  BR: EMBER_2023(98),
  CA: EMBER_2023(170),
  CH: EMBER_2023(34, true),
  CL: EMBER_2023(291),
  CN: EMBER_2023(582),
  CY: EMBER_2023(534),
  CZ: EMBER_2023(450),
  DE: EMBER_2023(381),
  DK: EMBER_2023(152),
  EE: EMBER_2023(417),
  ES: EMBER_2023(174, true),
  FI: EMBER_2023(79),
  FR: EMBER_2023(56),
  GB: EMBER_2023(238, true),
  GR: EMBER_2023(337),
  HR: EMBER_2023(205),
  HU: EMBER_2023(204),
  IE: EMBER_2023(291),
  IN: EMBER_2023(713),
  IT: EMBER_2023(288, true),
  JP: EMBER_2023(485, true),
  KR: EMBER_2023(436, true),
  NL: EMBER_2023(268, true),
  NO: EMBER_2023(30),
  PL: EMBER_2023(662),
  PT: EMBER_2023(175, true),
  SE: EMBER_2023(41),
  SG: EMBER_2023(470, true),
  US: EMBER_2023(369, true),
  ZA: EMBER_2023(709, true),
};

/** World average 2023 (Ember, Global Electricity Review 2024): used when nothing else is known. */
export const WORLD_INTENSITY: GridIntensity = { gPerKWh: 481, year: 2023 };

/**
 * Where the common cloud regions are (their grid is the country's). AWS, Azure and Google
 * Cloud region names; a deployment's `region` is looked up here.
 */
const REGION_COUNTRY: Readonly<Record<string, string>> = {
  // AWS
  'us-east-1': 'US', 'us-east-2': 'US', 'us-west-1': 'US', 'us-west-2': 'US', 'ca-central-1': 'CA',
  'eu-central-1': 'DE', 'eu-central-2': 'CH', 'eu-west-1': 'IE', 'eu-west-2': 'GB', 'eu-west-3': 'FR',
  'eu-north-1': 'SE', 'eu-south-1': 'IT', 'eu-south-2': 'ES', 'ap-northeast-1': 'JP', 'ap-northeast-2': 'KR',
  'ap-southeast-1': 'SG', 'ap-southeast-2': 'AU', 'ap-south-1': 'IN', 'sa-east-1': 'BR',
  // Azure
  eastus: 'US', eastus2: 'US', westus: 'US', westus2: 'US', westus3: 'US', centralus: 'US', northcentralus: 'US', southcentralus: 'US',
  canadacentral: 'CA', canadaeast: 'CA', westeurope: 'NL', northeurope: 'IE', francecentral: 'FR', germanywestcentral: 'DE',
  swedencentral: 'SE', uksouth: 'GB', ukwest: 'GB', switzerlandnorth: 'CH', norwayeast: 'NO', polandcentral: 'PL',
  italynorth: 'IT', spaincentral: 'ES', japaneast: 'JP', koreacentral: 'KR', southeastasia: 'SG', australiaeast: 'AU',
  centralindia: 'IN', brazilsouth: 'BR',
  // Google Cloud
  'us-central1': 'US', 'us-east1': 'US', 'us-east4': 'US', 'us-west1': 'US', 'us-west4': 'US',
  'europe-west1': 'BE', 'europe-west2': 'GB', 'europe-west3': 'DE', 'europe-west4': 'NL', 'europe-west6': 'CH',
  'europe-west8': 'IT', 'europe-west9': 'FR', 'europe-north1': 'FI', 'europe-central2': 'PL', 'europe-southwest1': 'ES',
  'asia-northeast1': 'JP', 'asia-northeast3': 'KR', 'asia-southeast1': 'SG', 'asia-south1': 'IN', 'australia-southeast1': 'AU',
  'northamerica-northeast1': 'CA', 'southamerica-east1': 'BR',
};

/** The country of a cloud region name, or null when unknown. */
export function regionCountry(region: string | null): string | null {
  if (region === null) return null;
  return REGION_COUNTRY[region.toLowerCase()] ?? null;
}

/**
 * Published fleet-wide PUE of the clouds the providers run on (facility energy / IT energy).
 * Providers that publish none are given their host cloud's, as noted.
 */
export const PROVIDER_PUE: Readonly<Record<string, { pue: number; source: string }>> = {
  gemini: { pue: 1.1, source: 'Google 2024 Environmental Report: fleet-wide trailing-twelve-month PUE 1.10 (2023)' },
  vertex: { pue: 1.1, source: 'Google 2024 Environmental Report: fleet-wide trailing-twelve-month PUE 1.10 (2023)' },
  bedrock: { pue: 1.15, source: 'Amazon 2023 Sustainability Report: AWS global PUE 1.15 (2023)' },
  anthropic: { pue: 1.15, source: 'assumption: Anthropic serves from AWS and Google Cloud; AWS 1.15 taken' },
  azure: { pue: 1.18, source: 'Microsoft data centre fact sheets: fleet PUE about 1.18 (2023); uncertain' },
  openai: { pue: 1.18, source: 'assumption: OpenAI serves from Azure; Azure figure taken' },
  mistral: { pue: 1.2, source: 'assumption: no published figure; typical of hyperscale hosts' },
};

/** Uptime Institute Global Data Center Survey 2024: average PUE 1.56; the default for own data centres. */
export const DEFAULT_OWN_PUE = 1.56;

/** Where a cloud provider's traffic is assumed to run when its deployment names no region. */
export const PROVIDER_HOME: Readonly<Record<string, string>> = {
  openai: 'US',
  azure: 'US',
  anthropic: 'US',
  bedrock: 'US',
  gemini: 'US',
  vertex: 'US',
  mistral: 'FR',
};
