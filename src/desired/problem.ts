// One thing wrong with a desired document: where (a JSON path) and what.
export interface Problem {
  /** JSON path like `items[2].vif.bridge`, or `(document)` for the whole text. */
  path: string;
  message: string;
}
