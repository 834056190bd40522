// The GraphQL-over-HTTP conformance audit of graphql-http (auditServer) against the served API.
// Argument (JSON): {"url": "http://127.0.0.1:PORT/graphql", "token": "<bearer token>"}.
// Prints {"counts": {"ok": n, "warn": n, "error": n, "notice": n}, "failures": [...]}: every
// audit that is not ok, with its id, name, status and reason.
import { auditServer } from "graphql-http";

const { url, token } = JSON.parse(process.argv[2]);

// Every audit request carries the token: /graphql answers 401 without one.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set("authorization", `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const failures = [];
for (const result of results) {
  counts[result.status] += 1;
  if (result.status !== "ok") {
    failures.push({ id: result.id, name: result.name, status: result.status, reason: result.reason });
  }
}
console.log(JSON.stringify({ total: results.length, counts, failures }));
