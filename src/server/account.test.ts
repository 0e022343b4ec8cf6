import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hundredths } from './account.js';

test('hundredths writes what JSON.stringify writes for the value rounded to hundredths', () => {
  const values = [0, 0.004, 0.005, 0.05, 0.1, 0.5, 1, 1.2, 1.23, 1.234, 1.235, 9.99, 9.999, 10, 12.3, 99.95, 100, 1234.56, 65_432.1, 3_600_000.07, 1e9 + 0.42];
  for (let i = 0; i < 20_000; i++) values.push(i / 100, i * 0.37, Math.random() * 10_000);
  for (const value of values) assert.equal(hundredths(value), JSON.stringify(Math.round(value * 100) / 100), String(value));
});

test('hundredths writes null for what is not a finite number, and keeps the sign of negative ones', () => {
  assert.equal(hundredths(Number.NaN), 'null');
  assert.equal(hundredths(Number.POSITIVE_INFINITY), 'null');
  assert.equal(hundredths(-1.25), JSON.stringify(Math.round(-125) / 100));
});
