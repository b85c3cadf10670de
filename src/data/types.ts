/**
 * The typed MuSiQue example every other module works with. Loaders (hub.ts, local.ts) validate
 * raw rows into this shape; nothing downstream reads raw rows.
 */

export interface Paragraph {
  /** The original `idx` (0–19); never renumbered, also not after noise filtering. */
  idx: number;
  title: string;
  /** `paragraph_text` with fix_quotes applied. */
  text: string;
  isSupporting: boolean;
}

interface DecompositionStep {
  id: number;
  question: string;
  answer: string;
  paragraphSupportIdx: number | null;
}

export interface Example {
  id: string;
  question: string;
  answer: string;
  answerAliases: string[];
  /** The gold list EM/F1 take the maximum over: [answer, ...answerAliases]. */
  answers: string[];
  /** The question's own paragraphs (20, fewer after noise filtering), in original order. */
  paragraphs: Paragraph[];
  /** `idx` of the supporting paragraphs, as strings ("0"…"19"), in paragraph order. */
  supportingIds: string[];
  /** Number of supporting paragraphs (2, 3 or 4 in MuSiQue-Ans). */
  nHops: number;
  /** From the id: "2hop", "3hop1", "3hop2", "4hop1", … */
  shape: string;
  decomposition: DecompositionStep[];
  answerable: boolean;
}
