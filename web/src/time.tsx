// Times as people read them ("3 minutes ago"), with the exact time on hover and for screen readers.
const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12], ['year', Infinity]];

export function ago(iso: string, now = Date.now()): string {
  let value = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return unit === 'second' && Math.abs(value) < 10 ? 'just now' : rtf.format(Math.round(value), unit);
    value /= size;
  }
  return iso;
}

export function Time(props: { iso: string }) {
  const exact = new Date(props.iso).toLocaleString();
  return (
    <time dateTime={props.iso} title={exact}>
      {ago(props.iso)}
    </time>
  );
}
