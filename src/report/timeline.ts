// The validity timeline: each Entra key of the Dynamics CRM service principal (ours and others'), the current
// and the new certificate, today, the renewal's overlap window (old and new both valid), the CA/Browser Forum
// lifetime steps (Ballot SC-081v3) and the EWS shutdown in Exchange Online. Drawn as a Mermaid gantt for job
// summaries and `report --format markdown` (GitHub renders Mermaid in markdown), and as text for the terminal.
import { EWS_FULLY_DISABLED } from '../deadlines.js';

const DAY_MS = 86_400_000;

/** CA/Browser Forum Ballot SC-081v3: the longest a publicly-trusted TLS certificate may be valid, from these dates. */
export const TLS_LIFETIME_STEPS = [
  { date: '2026-03-15', days: 200 },
  { date: '2027-03-15', days: 100 },
  { date: '2029-03-15', days: 47 },
] as const;

export interface TimelineBar {
  section: 'Entra keys' | 'Certificates' | 'Renewal';
  label: string;
  /** YYYY-MM-DD */
  start: string;
  end: string;
  /** expired: over; ending: fewer than 30 days left; valid: running; window: a span, not a credential. */
  state: 'expired' | 'ending' | 'valid' | 'window';
}

export interface TimelineMark {
  label: string;
  date: string;
}

export interface Timeline {
  today: string;
  bars: TimelineBar[];
  marks: TimelineMark[];
}

/** A key as records carry it (graph/key-credentials KeySummary). */
export interface TimelineKey {
  keyId: string;
  thumbprint: string | null;
  usage?: string;
  start: string | null;
  end: string | null;
  addedBy?: string;
}

export interface TimelineCertificate {
  thumbprint: string;
  notBefore?: string | null;
  notAfter: string;
}

export interface TimelineInput {
  now: Date;
  keys?: TimelineKey[];
  /** The certificate in use now (the live TLS certificate, the key being replaced). */
  current?: TimelineCertificate[];
  /** The certificate the renewal brings. */
  next?: TimelineCertificate;
}

const ENDING_DAYS = 30;
const day = (value: string | Date) => new Date(value).toISOString().slice(0, 10);
const short = (thumbprint: string | null | undefined) => (thumbprint ? thumbprint.slice(0, 8) + '…' : 'no thumbprint');

function state(start: string, end: string, now: Date): TimelineBar['state'] {
  const endMs = Date.parse(end);
  if (endMs < now.getTime()) return 'expired';
  if (endMs - now.getTime() < ENDING_DAYS * DAY_MS || Date.parse(start) > now.getTime()) return 'ending';
  return 'valid';
}

export function buildTimeline(input: TimelineInput): Timeline {
  const { now } = input;
  const bars: TimelineBar[] = [];
  for (const key of input.keys ?? []) {
    if (!key.start || !key.end || Number.isNaN(Date.parse(key.start)) || Number.isNaN(Date.parse(key.end))) continue;
    const whose = key.addedBy === 'd365-exo-sync' ? 'ours' : key.addedBy ? "someone else's" : 'key';
    const usage = key.usage && key.usage !== 'Verify' ? ` ${key.usage}` : '';
    bars.push({
      section: 'Entra keys',
      label: `key ${short(key.thumbprint)}${usage} (${whose})`,
      start: day(key.start),
      end: day(key.end),
      state: state(key.start, key.end, now),
    });
  }
  const certificates = [
    ...(input.current ?? []).map((c) => ({ ...c, role: 'current' })),
    ...(input.next ? [{ ...input.next, role: 'new' }] : []),
  ];
  const seen = new Set<string>();
  for (const cert of certificates) {
    if (seen.has(cert.thumbprint) || Number.isNaN(Date.parse(cert.notAfter))) continue;
    seen.add(cert.thumbprint);
    const start = cert.notBefore && !Number.isNaN(Date.parse(cert.notBefore)) ? cert.notBefore : now.toISOString();
    bars.push({
      section: 'Certificates',
      label: `${cert.role} certificate ${short(cert.thumbprint)}`,
      start: day(start),
      end: day(cert.notAfter),
      state: state(start, cert.notAfter, now),
    });
  }
  // The overlap: from today (or the new certificate's start) until the old one ends, both are valid, and the
  // renewal must be finished (verify passed, the old key retired) within it.
  if (input.next) {
    const next = input.next.thumbprint.toUpperCase();
    const oldEnds = [
      ...(input.keys ?? []).filter((k) => k.thumbprint?.toUpperCase() !== next && k.end).map((k) => k.end!),
      ...(input.current ?? []).filter((c) => c.thumbprint.toUpperCase() !== next).map((c) => c.notAfter),
    ]
      .map((d) => Date.parse(d))
      .filter((ms) => !Number.isNaN(ms) && ms > now.getTime());
    const from = Math.max(now.getTime(), Date.parse(input.next.notBefore ?? now.toISOString()) || now.getTime());
    if (oldEnds.length && Math.max(...oldEnds) > from) {
      bars.push({
        section: 'Renewal',
        label: 'overlap, old and new valid',
        start: day(new Date(from)),
        end: day(new Date(Math.max(...oldEnds))),
        state: 'window',
      });
    }
  }
  const marks: TimelineMark[] = [
    { label: 'today', date: day(now) },
    ...TLS_LIFETIME_STEPS.map((s) => ({ label: `TLS certificates at most ${s.days} days`, date: s.date })),
    { label: 'EWS off in Exchange Online', date: EWS_FULLY_DISABLED },
  ];
  // Only the lifetime steps inside the drawn span (and the one of 2027-03-15, the next), so the axis stays readable.
  const dates = [...bars.flatMap((b) => [b.start, b.end]), day(now), EWS_FULLY_DISABLED].sort();
  const [first, last] = [dates[0]!, dates[dates.length - 1]!];
  return {
    today: day(now),
    bars,
    marks: marks.filter(
      (m) => !m.label.startsWith('TLS') || m.date === '2027-03-15' || (m.date >= first && m.date <= last),
    ),
  };
}

/** Mermaid takes a task's name up to the colon; these characters would end or break it. */
const mermaidText = (text: string) =>
  text
    .replace(/[:;#\n\r]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

const TAGS: Record<TimelineBar['state'], string> = {
  expired: 'done, ',
  ending: 'crit, ',
  valid: 'active, ',
  window: '',
};

/** The timeline as a Mermaid gantt (in a ```mermaid fence). */
export function timelineMermaid(timeline: Timeline): string {
  const lines = [
    '```mermaid',
    'gantt',
    `  title Validity of the keys and certificates (as of ${timeline.today})`,
    '  dateFormat YYYY-MM-DD',
    '  axisFormat %Y-%m',
    // The reader's today would move the marker; the run's "today" is a milestone of its own.
    '  todayMarker off',
  ];
  const sections = [...new Set(timeline.bars.map((b) => b.section))];
  let id = 0;
  for (const section of sections) {
    lines.push(`  section ${section}`);
    for (const bar of timeline.bars.filter((b) => b.section === section)) {
      // A bar of zero length would not draw: end at least a day after its start.
      const end = bar.end > bar.start ? bar.end : day(new Date(Date.parse(bar.start) + DAY_MS));
      lines.push(`  ${mermaidText(bar.label)} :${TAGS[bar.state]}b${++id}, ${bar.start}, ${end}`);
    }
  }
  lines.push('  section Dates');
  for (const mark of [...timeline.marks].sort((a, b) => a.date.localeCompare(b.date)))
    lines.push(`  ${mermaidText(`${mark.label} ${mark.date}`)} :milestone, m${++id}, ${mark.date}, 0d`);
  lines.push('```');
  return lines.join('\n') + '\n';
}

/** The timeline for the terminal: one bar per key or certificate, today as |, marks listed with their dates. */
export function timelineText(timeline: Timeline, width = 100): string {
  const dates = [
    ...timeline.bars.flatMap((b) => [b.start, b.end]),
    ...timeline.marks.map((m) => m.date),
    timeline.today,
  ].sort();
  const from = Date.parse(dates[0]!);
  const to = Date.parse(dates[dates.length - 1]!);
  const labelWidth = Math.min(32, Math.max(...timeline.bars.map((b) => b.label.length), 10));
  const datesWidth = 25; // " 2026-01-01 → 2027-01-01"
  const barWidth = Math.max(10, Math.min(60, (Number.isFinite(width) ? width : 140) - labelWidth - datesWidth - 6));
  const col = (date: string) =>
    Math.min(
      barWidth - 1,
      Math.max(0, Math.round(((Date.parse(date) - from) / Math.max(DAY_MS, to - from)) * (barWidth - 1))),
    );
  const todayCol = col(timeline.today);
  const FILL: Record<TimelineBar['state'], string> = { expired: '-', ending: '!', valid: '=', window: '~' };
  let text = `Validity timeline (${dates[0]} … ${dates[dates.length - 1]}; | is today, ${timeline.today})\n`;
  for (const bar of timeline.bars) {
    const cells = Array.from({ length: barWidth }, () => ' ');
    for (let c = col(bar.start); c <= col(bar.end); c++) cells[c] = FILL[bar.state];
    // Today shows where the bar is not (the axis below has it too), so a bar never loses its only cell.
    if (cells[todayCol] === ' ') cells[todayCol] = '|';
    const label =
      bar.label.length > labelWidth ? bar.label.slice(0, labelWidth - 1) + '…' : bar.label.padEnd(labelWidth);
    text += `  ${label}  ${cells.join('')}  ${bar.start} → ${bar.end}\n`.replace(/ +\n$/, '\n');
  }
  const axis = Array.from({ length: barWidth }, () => ' ');
  const marks = [...timeline.marks].sort((a, b) => a.date.localeCompare(b.date));
  marks.forEach((mark) => (axis[col(mark.date)] = mark.label === 'today' ? '|' : '^'));
  text += `  ${' '.repeat(labelWidth)}  ${axis.join('')}`.trimEnd() + '\n';
  for (const mark of marks.filter((m) => m.label !== 'today')) text += `  ^ ${mark.date}  ${mark.label}\n`;
  text += '  = valid   ! ends within 30 days   - expired   ~ overlap, old and new valid\n';
  return text;
}
