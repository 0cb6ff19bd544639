// Mermaid's own parser, to check that the diagrams we write are ones GitHub renders. Mermaid needs a DOM to load
// (DOMPurify); happy-dom gives it one. getTasks() also evaluates every date, which parse() alone does not.
import { Window } from 'happy-dom';

let loaded: Promise<typeof import('mermaid').default> | undefined;

function mermaid() {
  loaded ??= (async () => {
    const window = new Window();
    const globals = globalThis as Record<string, unknown>;
    for (const name of [
      'window',
      'document',
      'navigator',
      'DOMParser',
      'Element',
      'HTMLElement',
      'SVGElement',
      'Node',
    ]) {
      if (!(name in globals))
        globals[name] = name === 'window' ? window : (window as unknown as Record<string, unknown>)[name];
    }
    return (await import('mermaid')).default;
  })();
  return loaded;
}

/** The ```mermaid blocks of a markdown text. */
export function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

export interface GanttTask {
  task: string;
  startTime: Date;
  endTime: Date;
  milestone?: boolean;
  section?: string;
}

/** Parses a gantt with mermaid (throws on a syntax error or a date it cannot read) and returns its tasks. */
export async function parseGantt(text: string): Promise<GanttTask[]> {
  const api = await mermaid();
  const parsed = await api.parse(text);
  if (!parsed || parsed.diagramType !== 'gantt') throw new Error(`not a gantt: ${JSON.stringify(parsed)}`);
  const diagram = await api.mermaidAPI.getDiagramFromText(text);
  return (diagram.db as unknown as { getTasks(): GanttTask[] }).getTasks();
}

export interface Flowchart {
  /** Node id -> its label. */
  nodes: Map<string, string>;
  edges: { start: string; end: string }[];
  /** Subgraph id -> the ids of the nodes in it. */
  subgraphs: Map<string, string[]>;
}

/** Parses a flowchart with mermaid (throws on a syntax error) and returns its nodes, edges and subgraphs. */
export async function parseFlowchart(text: string): Promise<Flowchart> {
  const api = await mermaid();
  const parsed = await api.parse(text);
  if (!parsed || !['flowchart-v2', 'flowchart'].includes(parsed.diagramType))
    throw new Error(`not a flowchart: ${JSON.stringify(parsed)}`);
  const diagram = await api.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db as unknown as {
    getVertices(): Map<string, { id: string; text: string }>;
    getEdges(): { start: string; end: string }[];
    getSubGraphs(): { id: string; nodes: string[] }[];
  };
  const vertices = db.getVertices();
  return {
    nodes: new Map([...vertices.values()].map((v) => [v.id, v.text])),
    edges: db.getEdges().map(({ start, end }) => ({ start, end })),
    subgraphs: new Map(db.getSubGraphs().map((s) => [s.id, s.nodes])),
  };
}

/** Parses any diagram with mermaid (throws on a syntax error) and returns its type. */
export async function diagramType(text: string): Promise<string> {
  const parsed = await (await mermaid()).parse(text);
  if (!parsed) throw new Error('mermaid could not parse the diagram');
  return parsed.diagramType;
}
