/** A DOM id for a field path ("tests[0190…].method" → "f-tests-0190…-method"). */
export const fieldId = (path: string) => "f-" + path.replace(/[^A-Za-z0-9_]+/g, "-");
