/** Text the page shows for times, rates and counts (pure: no DOM). */

function two(n: number): string {
  return (n < 10 ? '0' : '') + String(n);
}

/** `YYYY-MM-DD hh:mm:ss` in the browser's time zone. */
export function localTime(d: Date): string {
  return (
    String(d.getFullYear()) +
    '-' +
    two(d.getMonth() + 1) +
    '-' +
    two(d.getDate()) +
    ' ' +
    two(d.getHours()) +
    ':' +
    two(d.getMinutes()) +
    ':' +
    two(d.getSeconds())
  );
}

/** How far a time is from now (`ms` ahead when positive): `in 5 min`, `2 h 10 min ago`. */
export function relative(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const min = Math.round(s / 60);
  let text: string;
  if (s < 60) text = String(s) + ' s';
  else if (min < 60) text = String(min) + ' min';
  else if (min < 2880) {
    text = String(Math.floor(min / 60)) + ' h' + (min % 60 ? ' ' + String(min % 60) + ' min' : '');
  } else text = String(Math.round(min / 1440)) + ' days';
  return ms >= 0 ? 'in ' + text : text + ' ago';
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
