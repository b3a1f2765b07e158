import type { Table } from './types.js';

/** A table as GitHub-flavoured Markdown, its caption in italics above it. */
export function markdownTable(table: Table): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|');
  const line = (cells: string[]): string => `| ${cells.map(escape).join(' | ')} |`;
  const align = table.header.map((_, index) => (index === 0 ? '---' : '---:'));
  return [`*${table.caption}*`, '', line(table.header), `|${align.join('|')}|`, ...table.rows.map(line)].join('\n');
}
