/**
 * Validation of `POST /rerank` bodies for the rerank server, answering like FastAPI/pydantic:
 * HTTP 422 {"detail": [{"type", "loc": ["body", field, …], "msg", "input"}]}.
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

function issue(type: string, loc: Array<string | number>, msg: string, input: unknown): ValidationIssue {
  return { type, loc: ["body", ...loc], msg, input };
}

/** The issue FastAPI reports for a body that is not JSON. */
export function jsonIssue(): ValidationIssue {
  return { type: "json_invalid", loc: ["body", 0], msg: "JSON decode error", input: {} };
}

export function validateRerankRequest(body: unknown): Validated {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return {
      ok: false,
      issues: [
        issue("model_attributes_type", [], "Input should be a valid dictionary or object to extract fields from", body),
      ],
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
  else if (typeof query !== "string")
    issues.push(issue("string_type", ["query"], "Input should be a valid string", query));

  const documents = fields.documents;
  if (documents === undefined) issues.push(issue("missing", ["documents"], "Field required", body));
  else if (!Array.isArray(documents)) {
    issues.push(issue("list_type", ["documents"], "Input should be a valid list", documents));
  } else {
    documents.forEach((document: unknown, position) => {
      if (typeof document !== "string") {
        issues.push(issue("string_type", ["documents", position], "Input should be a valid string", document));
      }
    });
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

  if (issues.length > 0) return { ok: false, issues };
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
