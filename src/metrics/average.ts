/** The mean of per-example scores; 0 for no examples (a run with nothing scored scores 0). */
export function averageOf(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}
