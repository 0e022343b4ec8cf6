/** The check-digit algorithms behind the structured PII types. Inputs are compact (no separators). */

/** Luhn (mod 10), as on payment cards: true when the last digit checks the rest. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Value of a character in mod-97 and ICAO schemes: 0-9 as is, A=10 … Z=35. */
function alnumValue(char: string): number {
  const code = char.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 90) return code - 55;
  return -1;
}

/** ISO 7064 mod 97-10 over letters and digits (IBAN after moving the first four characters to the end). */
export function mod97(text: string): number {
  let rest = 0;
  for (const char of text) {
    const value = alnumValue(char);
    if (value < 0) return -1;
    rest = value >= 10 ? (rest * 100 + value) % 97 : (rest * 10 + value) % 97;
  }
  return rest;
}

export function ibanChecksumValid(iban: string): boolean {
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
}

/** ISO 7064 MOD 11,10: the check digit for `digits` (German tax ID, German VAT ID). */
export function mod11_10CheckDigit(digits: string): number {
  let product = 10;
  for (const char of digits) {
    let sum = (char.charCodeAt(0) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = 11 - product;
  return check === 10 ? 0 : check;
}

/** ICAO 9303 check digit (weights 7, 3, 1; `<` counts 0), as in machine-readable zones. */
export function icaoCheckDigit(text: string): number {
  const weights = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const value = char === '<' ? 0 : alnumValue(char);
    if (value < 0) return -1;
    sum += value * weights[i % 3]!;
  }
  return sum % 10;
}

/** The sum of the decimal digits of a number (German weighted schemes use it on products). */
export function crossSum(n: number): number {
  let sum = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 10)) sum += rest % 10;
  return sum;
}

/** Sum of digit × weight, digit by digit (weights as long as the digits used). */
export function weightedSum(digits: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += (digits.charCodeAt(i) - 48) * weights[i]!;
  return sum;
}
