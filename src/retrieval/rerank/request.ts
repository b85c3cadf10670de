/**
 * Validation of `POST /rerank` bodies for the rerank server, answering like FastAPI/pydantic:
 * HTTP 422 {"detail": [{"type", "loc": ["body", field, …], "msg", "input"}]}. Unlike FastAPI, a
 * hostile body cannot make the answer large or deep: an `input` is echoed only when its JSON is
 * short and shallow (else a short description), and at most MAX_ISSUES issues are listed.
 */

export interface RerankRequest {
  model: string | undefined;
  query: string;
  documents: string[];
  topN: number | undefined;
  returnDocuments: boolean;
}

export interface ValidationIssue {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
}

export type Validated = { ok: true; request: RerankRequest } | { ok: false; issues: ValidationIssue[] };

/** Issues listed in one 422 answer (a list of a million bad documents gets the first ones). */
const MAX_ISSUES = 20;
/** Characters of an echoed `input`. */
const MAX_ECHO = 200;
/** Nesting an echoed `input` may have. */
const MAX_ECHO_DEPTH = 4;

/** Whether `value` serialises to at most `budget.left` characters within `depth` levels. */
function fitsEcho(value: unknown, depth: number, budget: { left: number }): boolean {
  budget.left -= typeof value === "string" ? value.length + 2 : 8;
  if (budget.left < 0) return false;
  if (typeof value !== "object" || value === null) return true;
  if (depth >= MAX_ECHO_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) if (!fitsEcho(value[index], depth + 1, budget)) return false;
    return true;
  }
  for (const key in value) {
    budget.left -= key.length;
    if (!fitsEcho((value as Record<string, unknown>)[key], depth + 1, budget)) return false;
  }
  return true;
}

/** What an issue echoes of the input: the value when small, else its start or a description. */
function echoedInput(value: unknown): unknown {
  if (fitsEcho(value, 0, { left: MAX_ECHO })) return value;
  if (typeof value === "string") return `${value.slice(0, MAX_ECHO)}… (${value.length} characters, not echoed)`;
  const kind = Array.isArray(value) ? `a list of ${value.length} item${value.length === 1 ? "" : "s"}` : "an object";
  return `${kind} (too large or too deeply nested to echo)`;
}

function issue(type: string, loc: Array<string | number>, msg: string, input: unknown): ValidationIssue {
  return { type, loc: ["body", ...loc], msg, input: echoedInput(input) };
}

/** The issue FastAPI reports for a body that is not JSON. */
export function jsonIssue(): ValidationIssue {
  return { type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} };
}

export function validateRerankRequest(body: unknown): Validated {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return {
      ok: false,
      issues: [issue("model_attributes_type", [], "Input should be a valid dictionary or object to extract fields from", body)],
    };
  }
  const fields = body as Record<string, unknown>;
  const issues: ValidationIssue[] = [];

  const model = fields.model;
  if (model !== undefined && model !== null && typeof model !== "string") {
    issues.push(issue("string_type", ["model"], "Input should be a valid string", model));
  }

  const query = fields.query;
  if (query === undefined) issues.push(issue("missing", ["query"], "Field required", body));
  else if (typeof query !== "string") issues.push(issue("string_type", ["query"], "Input should be a valid string", query));

  const documents = fields.documents;
  if (documents === undefined) issues.push(issue("missing", ["documents"], "Field required", body));
  else if (!Array.isArray(documents)) {
    issues.push(issue("list_type", ["documents"], "Input should be a valid list", documents));
  } else {
    for (let position = 0; position < documents.length && issues.length < MAX_ISSUES; position++) {
      const document: unknown = documents[position];
      if (typeof document !== "string") {
        issues.push(issue("string_type", ["documents", position], "Input should be a valid string", document));
      }
    }
  }

  const topN = fields.top_n;
  if (topN !== undefined && topN !== null) {
    if (typeof topN !== "number" || !Number.isInteger(topN)) {
      issues.push(issue("int_type", ["top_n"], "Input should be a valid integer", topN));
    } else if (topN < 1) {
      issues.push(issue("greater_than_equal", ["top_n"], "Input should be greater than or equal to 1", topN));
    }
  }

  const returnDocuments = fields.return_documents;
  if (returnDocuments !== undefined && returnDocuments !== null && typeof returnDocuments !== "boolean") {
    issues.push(issue("bool_type", ["return_documents"], "Input should be a valid boolean", returnDocuments));
  }

  if (issues.length > 0) return { ok: false, issues: issues.slice(0, MAX_ISSUES) };
  return {
    ok: true,
    request: {
      model: typeof model === "string" ? model : undefined,
      query: query as string,
      documents: documents as string[],
      topN: typeof topN === "number" ? topN : undefined,
      returnDocuments: returnDocuments === true,
    },
  };
}
