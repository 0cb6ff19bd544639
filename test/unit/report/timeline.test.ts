// The validity timeline: a Mermaid gantt that mermaid's own parser reads (every date evaluated), in the job summary
// of a phase run and in `report --format markdown`, and a text timeline that fits the terminal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTimeline, timelineMermaid, timelineText } from '../../../src/report/timeline.js';
import { recordMarkdown } from '../../../src/report/markdown.js';
import { mergedMarkdown, mergedText, mergeRecords } from '../../../src/report/merge.js';
import { RUN_RECORD_SCHEMA, type RunRecord } from '../../../src/report/run-record.js';
import type { StepResult } from '../../../src/phases/phase.js';
import { mermaidBlocks, parseGantt } from '../../support/mermaid.js';

const now = new Date('2026-12-07T10:00:00Z');
const OLD = 'AAAA1111BBBB2222CCCC3333DDDD4444EEEE5555';
const NEW = '1234567890ABCDEF1234567890ABCDEF12345678';
const keys = [
  {
    keyId: 'k-old',
    thumbprint: OLD,
    usage: 'Verify',
    start: '2025-12-19T00:00:00Z',
    end: '2026-12-19T00:00:00Z',
    addedBy: 'd365-exo-sync',
  },
  {
    keyId: 'k-other',
    thumbprint: null,
    usage: 'Verify',
    start: '2025-01-01T00:00:00Z',
    end: '2026-06-30T00:00:00Z',
    addedBy: 'someone else',
  },
  {
    keyId: 'k-new',
    thumbprint: NEW,
    usage: 'Verify',
    start: '2026-12-01T00:00:00Z',
    end: '2027-06-19T00:00:00Z',
    addedBy: 'd365-exo-sync',
  },
];
const next = { thumbprint: NEW, notBefore: '2026-12-01T00:00:00Z', notAfter: '2027-06-19T00:00:00Z' };

function record(phase: RunRecord['phase'], steps: StepResult[], startedAt: string): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA,
    tool: { name: 'd365-exo-sync', version: 'test' },
    phase,
    mode: 'apply',
    status: 'succeeded',
    host: 'github',
    actor: 'admin',
    machine: 'runner',
    runId: '7',
    startedAt,
    finishedAt: startedAt,
    configHash: 'sha256:' + '0'.repeat(64),
    steps,
    outputs: {},
  };
}

const preflight = record(
  'preflight',
  [
    {
      id: 'entra.service-principal',
      title: 'Find the Dynamics CRM service principal',
      target: 'tenant contoso',
      status: 'unchanged',
      before: null,
      after: { id: 'sp', keys },
    },
    {
      id: 'entra.key-expiry',
      title: 'Days left on the current key and the new certificate',
      target: 'tenant contoso',
      status: 'unchanged',
      before: null,
      after: { newCertificate: { thumbprint: NEW, notAfter: next.notAfter, daysLeft: 193 } },
    },
  ],
  now.toISOString(),
);

describe('validity timeline', () => {
  it('has every key (ours and others), both certificates, today, the overlap, the CA/B step and the EWS shutdown', () => {
    const timeline = buildTimeline({ now, keys, current: [{ thumbprint: OLD, notAfter: keys[0]!.end }], next });
    const labels = timeline.bars.map((b) => b.label);
    assert.ok(labels.some((l) => l.startsWith('key AAAA1111… (ours)')));
    assert.ok(labels.some((l) => l.includes("(someone else's)")));
    assert.ok(labels.includes('new certificate 12345678…'));
    assert.ok(labels.includes('current certificate AAAA1111…'));
    const overlap = timeline.bars.find((b) => b.section === 'Renewal')!;
    assert.deepEqual([overlap.start, overlap.end], ['2026-12-07', '2026-12-19']);
    const marks = timeline.marks.map((m) => `${m.date} ${m.label}`);
    assert.ok(marks.includes('2026-12-07 today'));
    assert.ok(marks.includes('2027-03-15 TLS certificates at most 100 days'));
    assert.ok(marks.includes('2027-04-01 EWS off in Exchange Online'));
    assert.equal(timeline.bars.find((b) => b.label.includes("someone else's"))!.state, 'expired');
    assert.equal(timeline.bars.find((b) => b.label.startsWith('key AAAA'))!.state, 'ending');
  });

  it('is a gantt that mermaid parses, with every bar and mark at its dates', async () => {
    const timeline = buildTimeline({ now, keys, next });
    const [block] = mermaidBlocks(timelineMermaid(timeline));
    const tasks = await parseGantt(block!);
    assert.equal(tasks.length, timeline.bars.length + timeline.marks.length);
    const old = tasks.find((t) => t.task.startsWith('key AAAA1111'))!;
    assert.equal(old.startTime.toISOString().slice(0, 10), '2025-12-19');
    assert.equal(old.endTime.toISOString().slice(0, 10), '2026-12-19');
    const ews = tasks.find((t) => t.task.startsWith('EWS off'))!;
    assert.equal(ews.milestone, true);
    assert.equal(ews.startTime.toISOString().slice(0, 10), '2027-04-01');
  });

  it('a label with a colon or a hash does not break the gantt', async () => {
    const timeline = buildTimeline({ now, keys: [{ ...keys[0]!, thumbprint: 'AB:CD#EF;12' }] });
    const [block] = mermaidBlocks(timelineMermaid(timeline));
    assert.equal((await parseGantt(block!)).length, timeline.bars.length + timeline.marks.length);
  });

  it('is in the job summary of a phase run and in report --format markdown', async () => {
    const summary = recordMarkdown(preflight);
    const [inSummary] = mermaidBlocks(summary);
    assert.ok(inSummary, 'the job summary has a mermaid block');
    assert.ok((await parseGantt(inSummary)).some((t) => t.task.startsWith('new certificate 12345678')));
    const merged = mergeRecords([{ file: 'preflight.json', record: preflight }]);
    const [inReport] = mermaidBlocks(mergedMarkdown(merged));
    assert.ok(inReport, 'the report has a mermaid block');
    assert.ok((await parseGantt(inReport)).length > 5);
  });

  it('the last reading of the keys wins (retire-previous after register-entra)', () => {
    const retired = record(
      'retire-previous',
      [
        {
          id: 'entra.retire-keys',
          title: 'Retire',
          target: 'sp',
          status: 'changed',
          before: { keys },
          after: { keys: [keys[2]] },
        },
      ],
      '2026-12-07T12:00:00Z',
    );
    const merged = mergeRecords([
      { file: 'a.json', record: preflight },
      { file: 'b.json', record: retired },
    ]);
    const keyBars = merged.timeline!.bars.filter((b) => b.section === 'Entra keys');
    assert.deepEqual(
      keyBars.map((b) => b.label),
      ['key 12345678… (ours)'],
    );
  });

  it('the text timeline fits 80 and 100 columns and is in the terminal report', () => {
    const timeline = buildTimeline({ now, keys, next });
    for (const width of [80, 100]) {
      const text = timelineText(timeline, width);
      for (const line of text.split('\n')) assert.ok([...line].length <= width, `${width}: ${line}`);
      assert.match(text, /key AAAA1111… \(ours\) +[ =!|-]*!+[ =!|-]* +2025-12-19 → 2026-12-19/);
      assert.match(text, /\^ 2027-04-01 {2}EWS off in Exchange Online/);
    }
    const merged = mergeRecords([{ file: 'preflight.json', record: preflight }]);
    assert.match(mergedText(merged, 80), /Validity timeline \(/);
  });
});
