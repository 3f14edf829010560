/** The longest pause between two attempts, however many have failed. */
export const MAX_RETRY_DELAY_MS = 6 * 60 * 60 * 1000;

/**
 * When a delivery whose attempt number `attempt` (from 1) has just failed is tried again: after
 * `baseMs` doubled for each earlier failure (at most MAX_RETRY_DELAY_MS), less a random part of up
 * to half ("equal jitter": receivers that come back are not hit by every sender at once); null when
 * that falls past the retry window, which starts at `retryFrom` (the event, or the last redeliver).
 */
export function nextAttemptAt(attempt: number, now: Date, retryFrom: Date, baseMs: number, windowMs: number, random: () => number = Math.random): Date | null {
  const delay = Math.min(baseMs * 2 ** Math.min(attempt - 1, 40), MAX_RETRY_DELAY_MS);
  const at = now.getTime() + delay / 2 + random() * (delay / 2);
  return at <= retryFrom.getTime() + windowMs ? new Date(Math.ceil(at)) : null;
}
