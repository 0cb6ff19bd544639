// docs/architecture.md: its diagrams are ones Mermaid parses (so GitHub renders them), the layer diagram
// draws every place of src/ that the lint rules rank, in the layer the rules give it, and the renewal
// runs secret -> certificate -> Entra ID / Exchange / servers / D365 -> mailboxes, each phase feeding
// the run record.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PHASE_IDS } from '../../../src/report/step-result.js';
import { diagramType, mermaidBlocks, parseFlowchart, type Flowchart } from '../../support/mermaid.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const blocks = mermaidBlocks(readFileSync(`${ROOT}docs/architecture.md`, 'utf8'));
const configUrl = new URL('../../../eslint.config.js', import.meta.url).href;
const { LAYERS } = (await import(configUrl)) as { LAYERS: { layer: string; files: string[] }[] };

/** "src/config/**" -> "config/", "src/days.ts" -> "days.ts": how the diagram labels a place. */
const label = (file: string) => file.replace(/^src\//, '').replace(/\*\*$/, '');

function nodeWith(chart: Flowchart, text: string): string {
  const found = [...chart.nodes].filter(
    ([, nodeLabel]) => nodeLabel === text || [' ', ':', ','].some((end) => nodeLabel.startsWith(text + end)),
  );
  assert.equal(found.length, 1, `one node labelled "${text}…", found ${found.length}`);
  return found[0]![0];
}

describe('docs/architecture.md', () => {
  it('has three diagrams, each one Mermaid parses', async () => {
    assert.equal(blocks.length, 3);
    assert.deepEqual(await Promise.all(blocks.map(diagramType)), ['flowchart-v2', 'flowchart-v2', 'sequence']);
  });

  it('draws every ranked place of src/ in the layer eslint.config.js gives it', async () => {
    const chart = await parseFlowchart(blocks[0]!);
    for (const place of LAYERS) {
      const id = nodeWith(chart, label(place.files[0]!));
      assert.ok(chart.subgraphs.get(place.layer)?.includes(id), `${label(place.files[0]!)} in ${place.layer}`);
    }
    const layers = ['domain', 'clients', 'application', 'adapters'];
    assert.deepEqual([...new Set(LAYERS.map((p) => p.layer))], layers);
    for (let i = 1; i < layers.length; i++) {
      assert.ok(
        chart.edges.some((e) => e.start === layers[i] && e.end === layers[i - 1]),
        `${layers[i]} imports ${layers[i - 1]}`,
      );
    }
  });

  it('draws one renewal: secret -> certificate -> every phase in order -> the record', async () => {
    const chart = await parseFlowchart(blocks[1]!);
    const next = (from: string) => chart.edges.filter((e) => e.start === from && e.end !== 'record').map((e) => e.end);
    const path = [nodeWith(chart, 'secret')];
    for (let step = next(path[0]!); step.length === 1; step = next(path.at(-1)!)) path.push(step[0]!);
    const labels = path.map((id) => chart.nodes.get(id)!.split(':')[0]);
    assert.deepEqual(labels, [
      'secret',
      'masked before first use, with its derived forms (secrets/)',
      'certificate read and checked (cert/)',
      ...PHASE_IDS,
    ]);
    for (const phase of PHASE_IDS) {
      assert.ok(
        chart.edges.some((e) => e.start === nodeWith(chart, phase) && e.end === 'record'),
        `${phase} writes the run record`,
      );
    }
  });
});
