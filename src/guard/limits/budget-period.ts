import type { BudgetPeriod } from '../types.js';

/**
 * Budget periods in UTC, named so that a period's id is also readable in a Redis key:
 * day `2026-11-26`, ISO week `2026-W48` (Monday to Sunday, numbered in the year of its
 * Thursday), month `2026-11`, and `total`. The Lua twin is CALENDAR_LUA in redis-scripts.ts.
 */

const DAY_MS = 86_400_000;

export function budgetPeriodId(period: BudgetPeriod, now: number): string {
  if (period === 'total') return 'total';
  // Every period is whole UTC days: the id of the last day asked for is kept (a request each).
  const day = Math.floor(now / DAY_MS);
  const last = LAST_IDS[period];
  if (last.day === day) return last.id;
  const id = computePeriodId(period, now);
  LAST_IDS[period] = { day, id };
  return id;
}

const LAST_IDS: Record<Exclude<BudgetPeriod, 'total'>, { readonly day: number; readonly id: string }> = {
  day: { day: Number.NaN, id: '' },
  week: { day: Number.NaN, id: '' },
  month: { day: Number.NaN, id: '' },
};

function computePeriodId(period: Exclude<BudgetPeriod, 'total'>, now: number): string {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = pad(date.getUTCMonth() + 1);
  if (period === 'month') return `${year}-${month}`;
  if (period === 'day') return `${year}-${month}-${pad(date.getUTCDate())}`;
  const thursday = mondayOf(now) + 3 * DAY_MS;
  const weekYear = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS)) + 1;
  return `${weekYear}-W${pad(week)}`;
}

/** Epoch ms at which `now`'s period started; 0 for `total` (all spend since the beginning). */
export function periodStart(period: BudgetPeriod, now: number): number {
  switch (period) {
    case 'total':
      return 0;
    case 'day':
      return Math.floor(now / DAY_MS) * DAY_MS;
    case 'week':
      return mondayOf(now);
    case 'month': {
      const date = new Date(now);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    }
  }
}

/** Epoch ms at which the next period starts; null for `total`, which never ends. */
export function nextPeriodStart(period: BudgetPeriod, now: number): number | null {
  switch (period) {
    case 'total':
      return null;
    case 'day':
      return (Math.floor(now / DAY_MS) + 1) * DAY_MS;
    case 'week':
      return mondayOf(now) + 7 * DAY_MS;
    case 'month': {
      const date = new Date(now);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    }
  }
}

/** Midnight UTC of the Monday of `now`'s week (1970-01-01 was a Thursday). */
function mondayOf(now: number): number {
  const days = Math.floor(now / DAY_MS);
  return (days - ((((days + 3) % 7) + 7) % 7)) * DAY_MS;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
