import { Schedule } from '../presets/types';

/*
 * Sync cadences are written in words ("every 15 minutes", "every 4 hours from 00:00") rather
 * than as systemd calendar expressions: the words can be checked against a guide's minimum
 * and always map to an even grid, which a free-form OnCalendar= cannot promise.
 */

export const SCHEDULE_HELP =
  '"every N minutes" with N dividing 60 (1-60), or "every N hours from HH:MM" with N dividing 24';

export function parseSchedule(text: string): Schedule | undefined {
  const minutes = /^every (\d{1,2}) minutes?$/.exec(text.trim());
  if (minutes) {
    const n = Number(minutes[1]);
    return n >= 1 && n <= 60 && 60 % n === 0 ? { everyMinutes: n } : undefined;
  }
  const hours = /^every (\d{1,2}) hours?(?: from ([01]\d|2[0-3]):([0-5]\d))?$/.exec(text.trim());
  if (hours) {
    const n = Number(hours[1]);
    const from = hours[2] === undefined ? '00:00' : `${hours[2]}:${hours[3]}`;
    return n >= 1 && n <= 24 && 24 % n === 0 ? { everyHours: n, from } : undefined;
  }
  return undefined;
}

export function scheduleIntervalMinutes(s: Schedule): number {
  return 'everyMinutes' in s ? s.everyMinutes : s.everyHours * 60;
}

export function describeSchedule(s: Schedule): string {
  if ('everyMinutes' in s) return s.everyMinutes === 1 ? 'every minute' : `every ${s.everyMinutes} minutes`;
  return `every ${s.everyHours} hour${s.everyHours === 1 ? '' : 's'} from ${s.from}`;
}

/**
 * The systemd OnCalendar= expression for a cadence. Hourly grids carry the node's time zone so
 * "from midnight local time" stays true whatever the system clock's zone is.
 */
export function onCalendar(s: Schedule, timezone: string): string {
  if ('everyMinutes' in s) {
    return s.everyMinutes === 60 ? '*-*-* *:00:00' : `*-*-* *:00/${s.everyMinutes}:00`;
  }
  const [h, m] = s.from.split(':').map(Number);
  const firstHour = h % s.everyHours;
  const hours = s.everyHours === 24 ? String(h).padStart(2, '0') : `${String(firstHour).padStart(2, '0')}/${s.everyHours}`;
  return `*-*-* ${hours}:${String(m).padStart(2, '0')}:00 ${timezone}`;
}
