import type { PiiType } from '../../src/guard/pii/types.js';
import { FakeValues } from './fake-values.js';

/**
 * A labelled evaluation set, English and German, generated from templates with checksum-valid
 * fake values; also sentences with look-alikes (order numbers, dates, versions, broken check
 * digits) that carry no label. Names are drawn partly from outside the detector's gazetteer.
 */

export interface Label {
  readonly type: PiiType;
  readonly value: string;
}

export interface Sample {
  readonly text: string;
  readonly labels: readonly Label[];
}

const FIRST = ['Anna', 'Thomas', 'Katharina', 'Michael', 'Jennifer', 'David', 'Fatma', 'Mehmet', 'Gundula', 'Wendelin', 'Marlies', 'Tobin', 'Priya', 'Giulia', 'Oskar', 'Emily'];
const LAST = ['Schmidt', 'Müller', 'Wolff', 'Brown', 'Taylor', 'Yilmaz', 'Kowalski', 'Rossi', 'Hinterberger', 'Quandt', 'Featherstone', 'Okafor', 'Pfeiffer', 'Nguyen'];
const STREETS = ['Hauptstraße', 'Berliner Straße', 'Lindenweg', 'Am Markt', 'Goethestraße', 'Schillerplatz', 'Rosenallee', 'Bahnhofstr.'];
const CITIES = [['10115', 'Berlin'], ['80331', 'München'], ['50667', 'Köln'], ['04109', 'Leipzig'], ['20095', 'Hamburg']] as const;
const US_STREETS = ['Evergreen Terrace', 'Maple Street', 'Oak Avenue', 'Sunset Boulevard', 'Elm Drive'];
const US_CITIES = ['Springfield, IL 62704', 'Portland, OR 97205', 'Austin, TX 78701', 'Boston, MA 02108'];
const PHONES = ['+49 30 12345678', '030 12345678', '0151 23456789', '+43 1 5123456', '044 668 18 00', '020 7946 0958', '(212) 555-0123', '+1 415 555 2671', '0049 89 1234567', '+44 20 7946 0958'];
const PLATES = ['B-MW 1234', 'M-AB 123', 'HH-XY 42', 'K-LN 7E', 'S-TR 909', 'F-GH 55'];
const DATES = ['12.03.1985', '1. April 1979', '03/14/1990', '1990-04-03', 'March 4, 1990', '24.12.1961'];
const IPS = ['192.168.10.4', '10.0.12.7', '172.16.254.1', '2001:db8::8a2e:370:7334', 'fe80::1ff:fe23:4567:890a'];

type Template = (f: FakeValues) => Sample;

const one = (text: string, type: PiiType, value: string): Sample => ({ text, labels: [{ type, value }] });

const TEMPLATES: Template[] = [
  (f) => { const v = f.iban('DE'); return one(`Bitte überweisen Sie den Betrag auf das Konto ${v} bis Freitag.`, 'iban', v); },
  (f) => { const v = f.iban(f.pick(['AT', 'CH', 'GB', 'FR', 'NL'] as const), f.next() < 0.5); return one(`Please wire the refund to ${v}.`, 'iban', v); },
  (f) => { const v = f.card(f.next() < 0.6); return one(`My card number is ${v} and it expires next year.`, 'card', v); },
  (f) => { const v = f.card(); return one(`Zahlung mit Kreditkarte ${v} ist fehlgeschlagen.`, 'card', v); },
  (f) => { const v = f.taxId(); return one(`Meine Steuer-ID lautet ${v}, bitte für die Lohnabrechnung vermerken.`, 'tax_id', v); },
  (f) => { const v = f.germanVat(); return one(`Rechnungsempfänger USt-IdNr. ${v}`, 'vat_id', v); },
  (f) => { const v = f.idCard(); return one(`Die Ausweisnummer ist ${v}.`, 'id_card', v); },
  (f) => { const v = f.passport(); return one(`Reisepass Nr. ${v} liegt vor.`, 'passport', v); },
  (f) => { const v = f.socialSecurity(); return one(`Sozialversicherungsnummer: ${v}`, 'social_security', v); },
  (f) => { const v = f.healthInsurance(); return one(`Versichertennummer ${v}, Krankenkasse AOK.`, 'health_insurance', v); },
  (f) => { const v = f.ssn(); return one(`His SSN is ${v}.`, 'ssn', v); },
  (f) => { const v = `${f.pick(FIRST).toLowerCase()}.${f.pick(LAST).toLowerCase().replace('ü', 'ue')}@example.${f.pick(['de', 'com', 'org'])}`; return one(`Schreiben Sie an ${v} für Rückfragen.`, 'email', v); },
  (f) => { const v = f.pick(PHONES); return one(`You can reach me on ${v} after six.`, 'phone', v); },
  (f) => { const v = f.pick(PHONES); return one(`Rückruf bitte unter ${v}.`, 'phone', v); },
  (f) => { const v = f.pick(IPS); return one(`The login came from ${v} at night.`, 'ip_address', v); },
  (f) => { const v = f.pick(DATES); return one(f.next() < 0.5 ? `Geburtsdatum: ${v}` : `Date of birth: ${v}.`, 'date_of_birth', v); },
  (f) => { const [plz, city] = f.pick(CITIES); const v = `${f.pick(STREETS)} ${1 + f.int(120)}, ${plz} ${city}`; return one(`Die Lieferadresse ist ${v}.`, 'address', v); },
  (f) => { const v = `${1 + f.int(9000)} ${f.pick(US_STREETS)}, ${f.pick(US_CITIES)}`; return one(`Ship it to ${v}.`, 'address', v); },
  (f) => { const v = f.pick(PLATES); return one(`Das Fahrzeug mit dem Kennzeichen ${v} parkt falsch.`, 'licence_plate', v); },
  (f) => { const v = `${f.pick(FIRST)} ${f.pick(LAST)}`; return one(`Mein Name ist ${v} und ich habe eine Frage.`, 'person', v); },
  (f) => { const v = `${f.pick(FIRST)} ${f.pick(LAST)}`; return one(`Hi, my name is ${v}.`, 'person', v); },
  (f) => { const v = f.pick(LAST); return one(`Sehr geehrte Frau ${v}, vielen Dank für Ihre Nachricht.`, 'person', v); },
  (f) => { const v = f.pick(LAST); return one(`Dear Mr. ${v}, thank you for your order.`, 'person', v); },
  (f) => { const v = `${f.pick(FIRST)} ${f.pick(LAST)}`; return one(`Viele Grüße\n${v}`, 'person', v); },
  (f) => { const v = `${f.pick(FIRST.slice(0, 8))} ${f.pick(LAST)}`; return one(`Gestern hat ${v} angerufen.`, 'person', v); },
  (f) => {
    const person = `${f.pick(FIRST)} ${f.pick(LAST)}`;
    const iban = f.iban('DE');
    const email = `kontakt${f.int(99)}@example.de`;
    return { text: `Kunde ${person} (${email}) möchte auf ${iban} umstellen.`, labels: [{ type: 'person', value: person }, { type: 'email', value: email }, { type: 'iban', value: iban }] };
  },
];

/** Look-alikes: nothing here is personal data. */
const NEGATIVES: Template[] = [
  (f) => ({ text: `Bestellnummer ${f.digits(4)}-${f.digits(4)}-${f.digits(4)} wurde versandt.`, labels: [] }),
  (f) => ({ text: `Order #${f.digits(10)} shipped on 2024-0${1 + f.int(9)}-1${f.int(9)}.`, labels: [] }),
  (f) => ({ text: `Update auf Version ${f.int(20)}.${f.int(10)}.${f.int(10)}.${f.int(100)} verfügbar.`, labels: [] }),
  (f) => ({ text: `Die Lieferung kommt am ${1 + f.int(28)}.${1 + f.int(12)}.2024 um ${10 + f.int(10)}:${10 + f.int(49)} Uhr.`, labels: [] }),
  (f) => ({ text: `IBAN ${FakeValues.corrupt(f.iban('DE'))} ist falsch.`, labels: [] }),
  (f) => ({ text: `Card ${FakeValues.corrupt(f.card())} was declined.`, labels: [] }),
  (f) => ({ text: `Steuer-ID ${FakeValues.corrupt(f.taxId())} ungültig.`, labels: [] }),
  (f) => ({ text: `Rechnung ${f.digits(11)} vom ${1 + f.int(28)}.0${1 + f.int(8)}.2023 über ${f.int(999)},${f.digits(2)} EUR.`, labels: [] }),
  (f) => ({ text: `Artikel ${String.fromCharCode(65 + f.int(26))}${f.digits(9)} ist nicht lieferbar.`, labels: [] }),
  () => ({ text: 'The quarterly report for March shows steady growth in Berlin and Hamburg.', labels: [] }),
  () => ({ text: 'Wir treffen uns im Konferenzraum und besprechen die Zahlen nach ISO 9001.', labels: [] }),
];

/** `perTemplate` samples of each template and each look-alike, from a fixed seed. */
export function evaluationSet(perTemplate = 40, seed = 2024): Sample[] {
  const fake = new FakeValues(seed);
  const samples: Sample[] = [];
  for (const template of [...TEMPLATES, ...NEGATIVES]) for (let i = 0; i < perTemplate; i++) samples.push(template(fake));
  return samples;
}
