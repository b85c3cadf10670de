/** Word wrapping for --help and other prose printed to a terminal of a known width. */

/**
 * `text` broken at spaces into lines of at most `width` characters; a word longer than `width`
 * stays whole on its own line (a URL or a path is never cut).
 */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let line = "";
    for (const word of paragraph.split(/ +/)) {
      if (word === "") continue;
      if (line === "") line = word;
      else if (line.length + 1 + word.length <= width) line += " " + word;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Two columns: `term` then `text` wrapped at `width`, continuation lines indented to the text
 * column. A term wider than its column puts the text on the next line.
 */
export function hangingIndent(term: string, text: string, termWidth: number, width: number, indent = 2): string[] {
  const column = indent + termWidth + 2;
  const lines = wrapText(text, Math.max(20, width - column));
  const head = " ".repeat(indent) + term;
  if (head.length + 2 > column) return [head, ...lines.map((line) => " ".repeat(column) + line)];
  return lines.map((line, index) => (index === 0 ? head.padEnd(column) + line : " ".repeat(column) + line));
}
