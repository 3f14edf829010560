import { MAX_RETRY_DELAY_MS, nextAttemptAt } from './retry-schedule';

const HOUR = 3_600_000;
const now = new Date('2026-12-03T00:00:00Z');

describe('the retry schedule', () => {
  it('tries a failed delivery again within the base delay, between half of it and all of it', () => {
    expect(nextAttemptAt(1, now, now, 5_000, 24 * HOUR, () => 0)!.getTime() - now.getTime()).toBe(2_500);
    expect(nextAttemptAt(1, now, now, 5_000, 24 * HOUR, () => 0.999999)!.getTime() - now.getTime()).toBe(5_000);
  });

  it('doubles the delay with each failure, up to six hours', () => {
    const delays = [1, 2, 3, 4].map((attempt) => nextAttemptAt(attempt, now, now, 5_000, 24 * HOUR, () => 1)!.getTime() - now.getTime());
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(nextAttemptAt(30, now, now, 5_000, 24 * HOUR, () => 1)!.getTime() - now.getTime()).toBe(MAX_RETRY_DELAY_MS);
  });

  it('gives up when the next attempt would fall past 24 hours from the event (or the redeliver)', () => {
    const event = new Date(now.getTime() - 23 * HOUR);
    expect(nextAttemptAt(14, now, event, 5_000, 24 * HOUR, () => 1)).toBeNull();
    expect(nextAttemptAt(1, now, event, 5_000, 24 * HOUR, () => 1)).not.toBeNull();
    expect(nextAttemptAt(14, now, now, 5_000, 24 * HOUR, () => 1)).not.toBeNull();
  });

  it('adds up to about 17 attempts in a day at the default base', () => {
    let at = now;
    let attempt = 1;
    for (;;) {
      const next = nextAttemptAt(attempt, at, now, 5_000, 24 * HOUR, () => 1);
      if (!next) break;
      at = next;
      attempt++;
    }
    expect(attempt).toBeGreaterThanOrEqual(15);
    expect(attempt).toBeLessThanOrEqual(18);
  });
});
