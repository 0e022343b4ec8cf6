import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeValues } from '../../../test/pii/fake-values.js';
import { detectPii } from './detect.js';
import type { PiiType } from './types.js';

const fake = new FakeValues(11);

function found(text: string, type?: PiiType): string[] {
  return detectPii(text, type === undefined ? {} : { types: [type] }).map((d) => `${d.type}:${text.slice(d.start, d.end)}`);
}

function assertFinds(type: PiiType, text: string, value: string): void {
  assert.deepEqual(found(text, type), [`${type}:${value}`], text);
}

function assertNothing(type: PiiType, text: string): void {
  assert.deepEqual(found(text, type), [], text);
}

/** For each checksum type: valid values match, the same values with a broken check digit do not. */
const CHECKSUM_CASES: { type: PiiType; make: () => string; sentence: (value: string) => string }[] = [
  { type: 'iban', make: () => fake.iban('DE'), sentence: (v) => `Bitte an ${v} überweisen.` },
  { type: 'iban', make: () => fake.iban('GB', false), sentence: (v) => `Pay to ${v} please.` },
  { type: 'iban', make: () => fake.iban('CH'), sentence: (v) => `IBAN: ${v}` },
  { type: 'card', make: () => fake.card(), sentence: (v) => `My card is ${v}, exp 09/28.` },
  { type: 'card', make: () => fake.card(false), sentence: (v) => `Kreditkarte ${v}` },
  { type: 'tax_id', make: () => fake.taxId(), sentence: (v) => `Meine Steuer-IdNr lautet ${v}.` },
  { type: 'vat_id', make: () => fake.germanVat(), sentence: (v) => `USt-IdNr.: ${v}` },
  { type: 'id_card', make: () => fake.idCard(), sentence: (v) => `Personalausweis ${v}` },
  { type: 'passport', make: () => fake.passport(), sentence: (v) => `passport number ${v}` },
  { type: 'social_security', make: () => fake.socialSecurity(), sentence: (v) => `Sozialversicherungsnummer ${v}` },
  { type: 'health_insurance', make: () => fake.healthInsurance(), sentence: (v) => `Krankenversichertennummer ${v}` },
];

describe('checksum detectors', () => {
  for (const { type, make, sentence } of CHECKSUM_CASES) {
    test(`${type}: valid values match, broken check digits do not`, () => {
      for (let i = 0; i < 20; i++) {
        const value = make();
        assertFinds(type, sentence(value), value);
        assertNothing(type, sentence(FakeValues.corrupt(value)));
      }
    });
  }

  test('known-good examples: IBAN of the standard, Luhn test card, EU VAT IDs', () => {
    assertFinds('iban', 'IBAN DE89 3704 0044 0532 0130 00.', 'DE89 3704 0044 0532 0130 00');
    assertFinds('iban', 'GB82WEST12345698765432', 'GB82WEST12345698765432');
    assertNothing('iban', 'GB82WEST12345698765433');
    assertFinds('card', 'Visa 4111 1111 1111 1111', '4111 1111 1111 1111');
    assertNothing('card', 'Visa 4111 1111 1111 1112');
    assertFinds('vat_id', 'VAT: ATU13585627', 'ATU13585627');
    assertFinds('vat_id', 'TVA FR40303265045', 'FR40303265045');
    assertNothing('vat_id', 'TVA FR41303265045');
    assertFinds('vat_id', 'BTW NL004495445B01', 'NL004495445B01');
    assertFinds('vat_id', 'IVA IT00743110157', 'IT00743110157');
  });

  test('Steuer-IdNr: the digit-repetition rule', () => {
    // 86095742719 is the published example; a number with no repeated digit or a digit three times in a row is invalid.
    assertFinds('tax_id', 'Steuer-ID 86095742719', '86095742719');
    assertNothing('tax_id', 'Steuer-ID 12345678903');
    assertNothing('tax_id', 'Steuer-ID 11145678903');
  });

  test('SSN: reserved areas, groups and serials never match; no separators only with context', () => {
    assertFinds('ssn', 'SSN 123-45-6789', '123-45-6789');
    assertFinds('ssn', 'my social security number is 123456789', '123456789');
    for (const value of ['000-12-3456', '666-12-3456', '912-12-3456', '123-00-4567', '123-45-0000']) assertNothing('ssn', `SSN ${value}`);
    assertNothing('ssn', 'call 123456789 now');
  });

  test('ID card without its check digit only with context', () => {
    assertFinds('id_card', 'Ausweisnummer L01X00T47', 'L01X00T47');
    assertNothing('id_card', 'Artikel L01X00T47 ist da');
  });
});

describe('contact and network', () => {
  test('e-mail addresses', () => {
    assertFinds('email', 'Schreiben Sie an anna.schmidt+news@example.co.uk.', 'anna.schmidt+news@example.co.uk');
    assertNothing('email', 'a@b, user@localhost, @handle');
  });

  test('phones: E.164 and national formats of DE, AT, CH, UK, US', () => {
    assertFinds('phone', 'Ruf an: +49 30 12345678', '+49 30 12345678');
    assertFinds('phone', 'Tel. 030 12345678', '030 12345678');
    assertFinds('phone', 'Handy 0151 23456789', '0151 23456789');
    assertFinds('phone', 'Wien: +43 1 5123456', '+43 1 5123456');
    assertFinds('phone', 'Zürich 044 668 18 00', '044 668 18 00');
    assertFinds('phone', 'London 020 7946 0958', '020 7946 0958');
    assertFinds('phone', 'call (212) 555-0123', '(212) 555-0123');
    assertFinds('phone', 'call 212-555-0123', '212-555-0123');
    assertFinds('phone', 'Fax 0049 89 1234567', '0049 89 1234567');
  });

  test('phones: dates, order numbers and versions are not phone numbers', () => {
    for (const text of ['am 2024-01-15 um 10 Uhr', 'Bestellnummer 4711-2023-0815', 'order 2125550123', 'Version 10.0.19041', 'am 15.01.2024', 'Rechnung 0123456789', 'Betrag 1.234.567,00 EUR']) {
      assertNothing('phone', text);
    }
  });

  test('IP addresses, not version strings or times', () => {
    assertFinds('ip_address', 'server at 10.0.12.7.', '10.0.12.7');
    assertFinds('ip_address', 'host 2001:db8::8a2e:370:7334', '2001:db8::8a2e:370:7334');
    assertFinds('ip_address', 'host fe80:0:0:0:202:b3ff:fe1e:8329', 'fe80:0:0:0:202:b3ff:fe1e:8329');
    for (const text of ['version 1.2.3.4', 'v10.0.0.1', 'um 12:30:45 Uhr', '999.1.1.1', '1.2.3', 'MAC 00:1a:2b:3c:4d:5e']) assertNothing('ip_address', text);
  });
});

describe('context detectors', () => {
  test('dates of birth need a birth context; other dates do not match', () => {
    assertFinds('date_of_birth', 'geboren am 12.03.1985 in Köln', '12.03.1985');
    assertFinds('date_of_birth', 'Date of birth: March 4, 1990', 'March 4, 1990');
    assertFinds('date_of_birth', 'DOB 1990-04-03', '1990-04-03');
    assertFinds('date_of_birth', 'Er ist am 3. Mai 1979 geboren.', '3. Mai 1979');
    assertNothing('date_of_birth', 'Lieferung am 12.03.2024, Rechnung vom 2024-03-01');
    assertNothing('date_of_birth', 'born on 31.13.1985');
  });

  test('postal addresses, German and US', () => {
    assertFinds('address', 'Ich wohne in der Hauptstraße 12, 10115 Berlin.', 'Hauptstraße 12, 10115 Berlin');
    assertFinds('address', 'Lieferadresse: Berliner Straße 5a, 80331 München', 'Berliner Straße 5a, 80331 München');
    assertFinds('address', 'Am Markt 3, 04109 Leipzig', 'Am Markt 3, 04109 Leipzig');
    assertFinds('address', 'Send it to 742 Evergreen Terrace, Springfield, IL 62704.', '742 Evergreen Terrace, Springfield, IL 62704');
    assertNothing('address', 'Wir haben 12 Straßenbahnen und 10115 Fahrgäste.');
  });

  test('German licence plates', () => {
    assertFinds('licence_plate', 'Kennzeichen B-MW 1234', 'B-MW 1234');
    assertFinds('licence_plate', 'parkt mit HH-AB 42E vor der Tür', 'HH-AB 42E');
    for (const text of ['ISO 9001', 'DIN A4', 'ABCD-EF 1234', 'Version 2.1']) assertNothing('licence_plate', text);
  });
});

describe('names', () => {
  test('gazetteer and cues', () => {
    assertFinds('person', 'Sehr geehrter Herr Schmidt, danke.', 'Schmidt');
    assertFinds('person', 'Mein Name ist Katharina Wolff.', 'Katharina Wolff');
    assertFinds('person', 'My name is Jennifer Okafor.', 'Jennifer Okafor');
    assertFinds('person', 'Please ask Mr. Brown.', 'Brown');
    assertFinds('person', 'Gestern traf ich Stefan Hoffmann im Büro.', 'Stefan Hoffmann');
    assertFinds('person', 'Best regards,\nEmily Turner', 'Emily Turner');
    assertNothing('person', 'The quarterly report shows growth in March.');
    assertNothing('person', 'May I ask a question? Will it rain?');
  });

  test('compromise adds English names the gazetteer does not know, when asked', () => {
    const text = 'Yesterday Bartholomew Quackenbush signed the contract.';
    assert.deepEqual(detectPii(text, { types: ['person'] }), []);
    const withNlp = detectPii(text, { types: ['person'], nlp: true }).map((d) => text.slice(d.start, d.end));
    assert.ok(withNlp.some((name) => name.includes('Quackenbush')), JSON.stringify(withNlp));
  });
});

describe('thresholds and overlaps', () => {
  test('a higher threshold drops the less certain detections of that type only', () => {
    const text = 'Anna schreibt an anna@example.org';
    assert.deepEqual(found(text), ['person:Anna', 'email:anna@example.org']);
    assert.deepEqual(detectPii(text, { thresholds: { person: 0.8 } }).map((d) => d.type), ['email']);
  });

  test('the IBAN wins over the phone-like digits inside it', () => {
    const iban = fake.iban('DE');
    assert.deepEqual(found(`Tel und IBAN ${iban}`), [`iban:${iban}`]);
  });
});

/**
 * The scan tries most patterns only where a match can start (after `@`, around `.` and `:`, at
 * digit runs, after a cue word, before a line break). These cases sit at the edges of those
 * shortcuts: what they find is what a pattern run over every character finds.
 */
describe('fast paths find what a full scan finds', () => {
  test('e-mail: adjacent addresses, a local part at and beyond its 64-character limit, a stray @', () => {
    assert.deepEqual(found('a.b@example.de,c_d@example.com;@x e@f', 'email'), ['email:a.b@example.de', 'email:c_d@example.com']);
    const local = `a${'b'.repeat(63)}`;
    assertFinds('email', `mail ${local}@example.org`, `${local}@example.org`);
    assertNothing('email', `mail x${local}@example.org`);
  });

  test('IP addresses next to ports, other numbers and in compressed IPv6 form', () => {
    assert.deepEqual(found('1.2 and 10.0.0.1:8080, 1234.5.6.7, ::1', 'ip_address'), ['ip_address:10.0.0.1', 'ip_address:::1']);
    assertFinds('ip_address', 'see 2001:db8:0:0:0:0:2:1.', '2001:db8:0:0:0:0:2:1');
  });

  test('cued names after any white space, overlapping cues, signatures after punctuation and CRLF', () => {
    assertFinds('person', 'mein Name ist\u2003Gundula Quandt', 'Gundula Quandt');
    assertFinds('person', 'unterzeichnet von Wendelin Hinterberger', 'Wendelin Hinterberger');
    assertFinds('person', 'Viele Grüße! \t\r\nMarlies Featherstone', 'Marlies Featherstone');
    assertFinds('person', 'Kontakt:\n\nTobin Okafor', 'Tobin Okafor');
    assertNothing('person', 'Viele Grüße.\nDer Vorstand');
  });

  test('addresses after punctuation and with streets of up to three words', () => {
    assertFinds('address', '(Hauptstraße 12, 10115 Berlin)', 'Hauptstraße 12, 10115 Berlin');
    assertFinds('address', 'Treffpunkt Unter den Linden 7.', 'Unter den Linden 7');
    assertFinds('address', 'Büro: Alte Hauptstraße 5', 'Alte Hauptstraße 5');
    assertFinds('address', 'at 1600 N Maple Street, Springfield, IL 62704', '1600 N Maple Street, Springfield, IL 62704');
  });

  test('a phone-like group inside a kept IBAN is not reported; a phone next to it is', () => {
    const text = 'Konto GB29 NWBK 6016 1331 9268 19, Tel. 030 12345678';
    assert.deepEqual(found(text).filter((item) => !item.startsWith('iban:')), ['phone:030 12345678']);
    assert.ok(found(text).includes('iban:GB29 NWBK 6016 1331 9268 19'));
  });
});
