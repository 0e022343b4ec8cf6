import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetPeriodId, nextPeriodStart, periodStart } from './budget-period.js';

test('period ids in UTC, ISO weeks numbered in the year of their Thursday', () => {
  const at = Date.UTC(2026, 10, 26, 23, 59, 59, 999);
  assert.equal(budgetPeriodId('day', at), '2026-11-26');
  assert.equal(budgetPeriodId('week', at), '2026-W48');
  assert.equal(budgetPeriodId('month', at), '2026-11');
  assert.equal(budgetPeriodId('total', at), 'total');
  assert.equal(budgetPeriodId('week', Date.UTC(2021, 0, 3)), '2020-W53', 'Sunday 3 Jan 2021');
  assert.equal(budgetPeriodId('week', Date.UTC(2021, 0, 4)), '2021-W01');
  assert.equal(budgetPeriodId('week', Date.UTC(2024, 11, 30)), '2025-W01', 'Monday 30 Dec 2024');
});

test('the next period starts at midnight UTC of the next day, Monday or first of the month', () => {
  const at = Date.UTC(2026, 11, 31, 13, 0);
  assert.equal(nextPeriodStart('day', at), Date.UTC(2027, 0, 1));
  assert.equal(nextPeriodStart('week', at), Date.UTC(2027, 0, 4));
  assert.equal(nextPeriodStart('month', at), Date.UTC(2027, 0, 1));
  assert.equal(nextPeriodStart('total', at), null);
  assert.equal(nextPeriodStart('week', Date.UTC(2026, 10, 30)), Date.UTC(2026, 11, 7), 'from a Monday midnight');
});

test('a period starts at midnight UTC of its day, Monday or first of the month; total at 0', () => {
  const at = Date.UTC(2026, 10, 26, 13, 5);
  assert.equal(periodStart('day', at), Date.UTC(2026, 10, 26));
  assert.equal(periodStart('week', at), Date.UTC(2026, 10, 23));
  assert.equal(periodStart('month', at), Date.UTC(2026, 10, 1));
  assert.equal(periodStart('total', at), 0);
  for (const period of ['day', 'week', 'month'] as const) {
    assert.equal(budgetPeriodId(period, periodStart(period, at)), budgetPeriodId(period, at), period);
    assert.equal(budgetPeriodId(period, periodStart(period, at) - 1) === budgetPeriodId(period, at), false, period);
  }
});

test('period ids are remembered per day and period, never across them', () => {
  const days = [Date.UTC(2026, 10, 30, 12), Date.UTC(2026, 11, 1, 0), Date.UTC(2026, 10, 30, 23, 59, 59, 999), Date.UTC(2026, 11, 1, 0)];
  const expected = { day: ['2026-11-30', '2026-12-01', '2026-11-30', '2026-12-01'], week: ['2026-W49', '2026-W49', '2026-W49', '2026-W49'], month: ['2026-11', '2026-12', '2026-11', '2026-12'] };
  for (let round = 0; round < 2; round++) {
    days.forEach((at, i) => {
      for (const period of ['day', 'week', 'month'] as const) assert.equal(budgetPeriodId(period, at), expected[period][i], `${period} ${i}`);
    });
  }
});
