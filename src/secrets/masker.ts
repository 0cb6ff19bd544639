import { derivedForms } from './derived-forms.js';

export const MASK = '***';

/** Keeps every registered secret form and replaces it in text before the text leaves the process. */
export class Masker {
  private readonly forms = new Set<string>();
  private sorted: string[] = [];

  /** Registers a secret and every derived form; returns the forms so a host can pass them on (setSecret). */
  add(secret: string | Buffer): string[] {
    const added = derivedForms(secret).filter((form) => !this.forms.has(form));
    for (const form of added) this.forms.add(form);
    // Longest first, so a form that contains a shorter one is replaced whole.
    if (added.length) this.sorted = [...this.forms].sort((a, b) => b.length - a.length);
    return added;
  }

  mask(text: string): string {
    let out = text;
    for (const form of this.sorted) if (out.includes(form)) out = out.split(form).join(MASK);
    return out;
  }

  get size(): number {
    return this.forms.size;
  }
}
