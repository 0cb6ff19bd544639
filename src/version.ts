// The toolkit's version, stamped into run records and the pipeline packages. Kept in step with
// package.json by a test (a JSON import would pull package.json into every bundle).
export const TOOL_VERSION = '0.1.0';
