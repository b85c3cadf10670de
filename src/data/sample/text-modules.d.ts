/** JSONL files imported as text (`import x from "./a.jsonl" with { type: "text" }`). */
declare module "*.jsonl" {
  const text: string;
  export default text;
}
