// Days left until a moment, counted one way everywhere (plans, warnings, watch, the demo, the timeline): whole days,
// rounded down, so "12 days" on one line never meets "11 day(s)" on the next for the same end.
const DAY_MS = 86_400_000;

/** Whole days from now until `until` (rounded down; negative once it has passed). */
export function daysLeft(until: Date | number | string, now: Date): number {
  const end = until instanceof Date ? until.getTime() : typeof until === 'number' ? until : Date.parse(until);
  return Math.floor((end - now.getTime()) / DAY_MS);
}

/** "1 day", "12 days". */
export function daysText(days: number): string {
  return Math.abs(days) === 1 ? `${days} day` : `${days} days`;
}

/** "1 mailbox", "40 mailboxes": a count with its noun, one wording everywhere. */
export function countText(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
