/** @tgwf/co2 ships no type declarations; the one export the emissions kind reads. */
declare module '@tgwf/co2/data' {
  /** Ember's average grid intensity, gCO2e per kWh, by ISO 3166 alpha-3 code (and regional aggregates, WORLD). */
  export const averageIntensity: { data: Record<string, number>; type: string };
}
