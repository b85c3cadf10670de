/** Types for the `snowball-stemmers` package (JS port of Snowball 2.2.0), which ships none. */
declare module "snowball-stemmers" {
  export interface Stemmer {
    stem(word: string): string;
  }
  export function newStemmer(language: string): Stemmer;
  export function algorithms(): string[];
}
