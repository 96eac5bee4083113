/** Markdown building blocks for the benchmark report. */

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** A number with `digits` decimals, or '–' when it is not finite. */
export function num(v: number | undefined | null, digits = 3): string {
  return v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export function meanSd(m: { mean: number; sd: number }, digits = 3): string {
  return Number.isFinite(m.mean) ? `${m.mean.toFixed(digits)} ± ${m.sd.toFixed(digits)}` : '–';
}
