// Apollo Client 4 with its persisted-queries link (automatic persisted queries) against the API.
// Argument (JSON): {"url", "token", "runs": [[{"query", "variables"?}, ...], ...], "useGET"?}.
// Each run is a fresh ApolloClient (fresh link and cache, as a new app start) that sends its
// operations in order. Prints {"runs": [[{"data", "codes", "requests": [...]}, ...], ...]}:
// per operation its data (or null), the error codes it ended with, and every HTTP request the
// link made for it (method, whether the document and the hash were sent, the document's text as
// sent when it was, status, content type).
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { createHash } from "node:crypto";

const { url, token, runs, useGET = false } = JSON.parse(process.argv[2]);

function codesOf(error) {
  const errors = error?.errors ?? [];
  if (errors.length) return errors.map((e) => e.extensions?.code ?? e.message);
  if (error?.bodyText) {
    try {
      return (JSON.parse(error.bodyText).errors ?? []).map((e) => e.extensions?.code);
    } catch {}
  }
  return [String(error)];
}

async function run(operations) {
  let requests = [];
  const recordingFetch = async (input, init = {}) => {
    const target = new URL(typeof input === "string" ? input : input.url);
    const method = (init.method || "GET").toUpperCase();
    let sent = {};
    if (method === "GET") {
      sent = {
        query: target.searchParams.get("query"),
        extensions: JSON.parse(target.searchParams.get("extensions") || "null"),
      };
    } else {
      sent = JSON.parse(init.body);
    }
    const response = await fetch(input, init);
    requests.push({
      method,
      query: typeof sent.query === "string",
      hash: Boolean(sent.extensions?.persistedQuery?.sha256Hash),
      text: typeof sent.query === "string" ? sent.query : null,
      status: response.status,
      contentType: response.headers.get("content-type"),
    });
    return response;
  };
  const link = new PersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: useGET,
  }).concat(
    new HttpLink({ uri: url, fetch: recordingFetch, headers: { authorization: `Bearer ${token}` } })
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const results = [];
  for (const { query, variables } of operations) {
    requests = [];
    const document = gql(query);
    const isMutation = document.definitions.some((d) => d.operation === "mutation");
    try {
      const answer = isMutation
        ? await client.mutate({ mutation: document, variables })
        : await client.query({ query: document, variables, fetchPolicy: "no-cache" });
      results.push({ data: answer.data ?? null, codes: answer.error ? codesOf(answer.error) : [], requests });
    } catch (error) {
      results.push({ data: null, codes: codesOf(error), requests });
    }
  }
  return results;
}

const out = [];
for (const operations of runs) out.push(await run(operations));
console.log(JSON.stringify({ runs: out }));
