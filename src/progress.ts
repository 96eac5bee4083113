/**
 * Long work reports progress through this callback, so the CLI can draw bars, the viewer can
 * stream progress to the browser, and library users can ignore it.
 */
export interface ProgressEvent {
  /** Short stage name, e.g. "features z", "matching", "segmenting". */
  stage: string;
  done: number;
  total: number;
}
export type ProgressCallback = (event: ProgressEvent) => void;
export const noProgress: ProgressCallback = () => {};
