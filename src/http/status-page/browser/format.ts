/**
 * Text the page shows for times, durations, rates and counts (pure: no DOM). Times are shown in
 * UTC and say so (`2026-12-07 21:03 UTC`), as the CLI prints them; durations are compact
 * (`45s`, `2m30s`, `1h30m`, `2h`, `3d4h`), never `7200 s`.
 */

function two(n: number): string {
  return (n < 10 ? '0' : '') + String(n);
}

/** `YYYY-MM-DD hh:mm UTC` (with `:ss` when `seconds`). */
export function utcTime(d: Date, seconds = false): string {
  return (
    String(d.getUTCFullYear()) +
    '-' +
    two(d.getUTCMonth() + 1) +
    '-' +
    two(d.getUTCDate()) +
    ' ' +
    two(d.getUTCHours()) +
    ':' +
    two(d.getUTCMinutes()) +
    (seconds ? ':' + two(d.getUTCSeconds()) : '') +
    ' UTC'
  );
}

/** A duration, compact: `45s`, `2m30s`, `1h30m`, `2h`, `3d4h` (seconds dropped from 1h up). */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return String(s) + 's';
  if (s < 3600) {
    const r = s % 60;
    return String(Math.floor(s / 60)) + 'm' + (r ? String(r) + 's' : '');
  }
  if (s < 2 * 86400) {
    const m = Math.floor((s % 3600) / 60);
    return String(Math.floor(s / 3600)) + 'h' + (m ? String(m) + 'm' : '');
  }
  const h = Math.floor((s % 86400) / 3600);
  return String(Math.floor(s / 86400)) + 'd' + (h ? String(h) + 'h' : '');
}

/** How far a time is from now (`ms` ahead when positive): `in 5m`, `2h10m ago`. */
export function relative(ms: number): string {
  return ms >= 0 ? 'in ' + duration(ms) : duration(ms) + ' ago';
}

/** A rate as a percentage (two decimals below 1 %), `–` for none. */
export function pct(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  const p = x * 100;
  return (p !== 0 && p < 1 ? p.toFixed(2) : p.toFixed(1).replace(/\.0$/, '')) + ' %';
}

export function plural(n: number, word: string): string {
  return String(n) + ' ' + word + (n === 1 ? '' : 's');
}
