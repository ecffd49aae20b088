/*
 * A scheduled bitflip's time (N17): "YYYY-MM-DD HH:MM ZONE", a real date and time, with its zone
 * written out (UTC or an IANA zone), in the future. The loader turns it into UTC, so the timer
 * that renders it is the same whatever the node's own zone; a date that does not exist would
 * render a timer systemd cannot parse, a past one a timer that never fires.
 */

export const BITFLIP_TIME_HELP = 'a time "YYYY-MM-DD HH:MM ZONE" in the future, with ZONE UTC or an IANA zone such as Europe/Berlin';

const TIMEZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
const AT_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}) (\S+)$/;

export type BitflipTime = { readonly ok: true; readonly utc: Date } | { readonly ok: false; readonly reason: string };

/** The instant a bitflip time names, or why it names none (or one already past at `now`). */
export function parseBitflipTime(text: string, now: Date = new Date()): BitflipTime {
  const m = AT_RE.exec(text.trim());
  if (!m) return { ok: false, reason: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(text.trim()) ? `${BITFLIP_TIME_HELP}: the zone is missing` : BITFLIP_TIME_HELP };
  const [y, mo, d, h, mi] = m.slice(1, 6).map(Number);
  const zone = m[6];
  if (!TIMEZONES.has(zone)) return { ok: false, reason: `${BITFLIP_TIME_HELP}: ${zone} is not a time zone` };
  const daysInMonth = mo >= 1 && mo <= 12 ? new Date(Date.UTC(y, mo, 0)).getUTCDate() : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth) return { ok: false, reason: `${BITFLIP_TIME_HELP}: ${m[1]}-${m[2]}-${m[3]} is not a date` };
  if (h > 23 || mi > 59) return { ok: false, reason: `${BITFLIP_TIME_HELP}: ${m[4]}:${m[5]} is not a time of day` };
  const utc = zonedToUtc(y, mo, d, h, mi, zone);
  if (utc.getTime() <= now.getTime()) return { ok: false, reason: `${BITFLIP_TIME_HELP}: it is past, so its timer would never fire` };
  return { ok: true, utc };
}

/** "YYYY-MM-DD HH:MM UTC", the form the rendered timer takes. */
export function formatUtc(t: Date): string {
  return `${t.toISOString().slice(0, 10)} ${t.toISOString().slice(11, 16)} UTC`;
}

/** The instant at which the clock of `zone` shows the given wall time (the later one in a DST gap). */
function zonedToUtc(y: number, mo: number, d: number, h: number, mi: number, zone: string): Date {
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let t = wall - offsetMs(wall, zone);
  t = wall - offsetMs(t, zone);
  return new Date(t);
}

/** How far the clock of `zone` is ahead of UTC at instant `t`. */
function offsetMs(t: number, zone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
      .formatToParts(t)
      .map((p) => [p.type, Number(p.value)]),
  );
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute) - Math.floor(t / 60000) * 60000;
}
