/**
 * "Try again in 30 seconds." from the number of seconds a `Retry-After` header carries, rounded up
 * to whole minutes from one minute and to whole hours from one hour, so waiting as long as the page
 * says is always long enough.
 */
export function tryAgainIn(seconds: number): string {
  const wait = Math.max(1, Math.ceil(seconds));
  if (wait < 60) return `Try again in ${count(wait, 'second')}.`;
  const minutes = Math.ceil(wait / 60);
  if (minutes < 60) return `Try again in ${count(minutes, 'minute')}.`;
  return `Try again in ${count(Math.ceil(wait / 3600), 'hour')}.`;
}

function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
