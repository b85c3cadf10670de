/** Files embedded in the binary as text (`import x from "./a.md" with { type: "text" }`). */
declare module "*.md" {
  const text: string;
  export default text;
}
declare module "*.yaml" {
  const text: string;
  export default text;
}
declare module "*.yml" {
  const text: string;
  export default text;
}
