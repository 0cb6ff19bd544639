// A secret leaks just as badly in an encoded form as in plain text. These are the forms a secret
// can take on its way through this toolkit (and through the tools it calls), so every one is masked.

const MIN_FORM_LENGTH = 4; // shorter fragments would mask ordinary words in the log

function base64Forms(value: string | Buffer): string[] {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const b64 = bytes.toString('base64');
  const forms = [b64, b64.replace(/=+$/, ''), bytes.toString('base64url')];
  // Each line of a PEM-style or MIME-wrapped rendering (64 and 76 columns) leaks a slice of the secret.
  for (const width of [64, 76]) {
    for (let i = 0; i < b64.length; i += width) forms.push(b64.slice(i, i + width));
  }
  return forms;
}

/** Every form of `secret` that must be masked: itself, its lines, base64, PEM lines, URL- and JSON-encoded. */
export function derivedForms(secret: string | Buffer): string[] {
  // A secret this short cannot be masked without masking ordinary words; the forms of it would be noise.
  if (secret.length < MIN_FORM_LENGTH) return [];
  const forms = new Set<string>();
  if (typeof secret === 'string') {
    forms.add(secret);
    for (const line of secret.split(/\r?\n/)) forms.add(line.trim());
    forms.add(encodeURIComponent(secret));
    forms.add(encodeURIComponent(secret).replace(/%20/g, '+'));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  for (const form of base64Forms(secret)) forms.add(form);
  return [...forms].filter((form) => form.length >= MIN_FORM_LENGTH);
}
