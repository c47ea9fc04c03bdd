/** Plain-text figures and tables, shared by the benches' reports. */

export const formatNumber = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Columns padded to a common width: the first `leftColumns` are labels (left-aligned), the rest figures. */
export function alignedTable(rows: string[][], leftColumns = 1): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row.map((cell, column) =>
        column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      ),
    )
    .map((row) => row.join('  ').trimEnd())
    .join('\n');
}
