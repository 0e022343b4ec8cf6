import { icaoCheckDigit, luhnValid, mod11_10CheckDigit, mod97 } from '../../src/guard/pii/checksums.js';
import { healthInsuranceValid, socialSecurityValid, taxIdValid } from '../../src/guard/pii/identity.js';

/**
 * Checksum-valid fake values for tests and the evaluation set, from a seeded generator (the same
 * seed gives the same set). None of them belongs to anyone on purpose.
 */
export class FakeValues {
  private state: number;
  constructor(seed = 42) {
    this.state = seed >>> 0 || 1;
  }

  /** xorshift32 */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  digits(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += String(this.int(10));
    return out;
  }

  iban(country: 'DE' | 'AT' | 'CH' | 'GB' | 'FR' | 'NL' = 'DE', spaced = true): string {
    const bban = { DE: () => this.digits(18), AT: () => this.digits(16), CH: () => this.digits(17), GB: () => `NWBK${this.digits(14)}`, FR: () => this.digits(23), NL: () => `ABNA${this.digits(10)}` }[country]();
    const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
    const iban = `${country}${check}${bban}`;
    return spaced ? iban.replace(/(.{4})/g, '$1 ').trim() : iban;
  }

  card(spaced = true): string {
    const prefix = this.pick(['4', '51', '52', '55', '4']);
    let body = prefix + this.digits(15 - prefix.length);
    for (let d = 0; d < 10; d++) if (luhnValid(body + d)) { body += d; break; }
    return spaced ? body.replace(/(.{4})/g, '$1 ').trim() : body;
  }

  taxId(): string {
    for (;;) {
      const base = String(1 + this.int(9)) + this.digits(9);
      const id = base + String(mod11_10CheckDigit(base));
      if (taxIdValid(id)) return id;
    }
  }

  germanVat(): string {
    const base = String(1 + this.int(9)) + this.digits(7);
    return `DE${base}${mod11_10CheckDigit(base)}`;
  }

  private document(first: string): string {
    const alphabet = 'CFGHJKLMNPRTVWXYZ0123456789';
    let id = first;
    while (id.length < 9) id += alphabet[this.int(alphabet.length)];
    if (!/\d/.test(id)) id = `${id.slice(0, 8)}7`;
    return id + String(icaoCheckDigit(id));
  }

  idCard(): string {
    return this.document(this.pick(['L', 'M', 'N', 'P', 'R', 'T', 'V', 'W', 'X', 'Y']));
  }

  passport(): string {
    return this.document('C');
  }

  socialSecurity(): string {
    for (;;) {
      const area = String(10 + this.int(80));
      const birth = String(1 + this.int(28)).padStart(2, '0') + String(1 + this.int(12)).padStart(2, '0') + this.digits(2);
      const letter = String.fromCharCode(65 + this.int(26));
      const serial = this.digits(2);
      for (let check = 0; check < 10; check++) {
        if (socialSecurityValid(area, birth, letter, serial, String(check))) return `${area} ${birth} ${letter} ${serial}${check}`;
      }
    }
  }

  healthInsurance(): string {
    const base = String.fromCharCode(65 + this.int(26)) + this.digits(8);
    for (let check = 0; check < 10; check++) if (healthInsuranceValid(base + check)) return base + check;
    throw new Error('unreachable');
  }

  ssn(): string {
    const area = String(1 + this.int(664)).padStart(3, '0');
    return `${area}-${String(1 + this.int(98)).padStart(2, '0')}-${String(1 + this.int(9998)).padStart(4, '0')}`;
  }

  /** Breaks the last digit: a value of the same shape whose checksum fails. */
  static corrupt(value: string): string {
    const at = value.search(/\d(?=\D*$)/);
    const digit = Number(value[at]);
    return value.slice(0, at) + String((digit + 1) % 10) + value.slice(at + 1);
  }
}
