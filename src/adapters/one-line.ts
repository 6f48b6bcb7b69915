/** Error text for a person, in one line: parser messages (JSON, YAML) quote input across lines. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
