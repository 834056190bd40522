// Apollo Client 4 with its default InMemoryCache against the served API: what a channel's
// normalised cache makes of our answers.
//
// Argument (JSON): { url, token, sessions: [{ name, documents: [{ name, query, variables }] }],
//                    paging: { query, variables, all } }
// Each session is ONE client (one cache): every document is sent to the server in turn (what the
// server answered is recorded as it came off the wire, before the cache saw it), then every
// document is read back with fetchPolicy 'cache-only'. Paging: a client with the type policies
// the README recommends pages `paging.query` with fetchMore to the end; `all` (the same list
// in one page) is fetched by a plain client for comparison.
// Prints { sessions: { name: [{ name, server, cached }] }, paging: { pages, merged, all } }.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client/core";
import { relayStylePagination } from "@apollo/client/utilities";
import { map } from "rxjs";

const arg = JSON.parse(process.argv[2]);

function client(cache, answers) {
  const http = new HttpLink({ uri: `${arg.url}/graphql`, headers: { authorization: `Bearer ${arg.token}` } });
  const record = new ApolloLink((operation, forward) =>
    forward(operation).pipe(
      map((result) => {
        if (result.errors) throw new Error(`${operation.operationName}: ${JSON.stringify(result.errors)}`);
        answers.push(structuredClone(result.data));
        return result;
      })
    )
  );
  return new ApolloClient({ link: ApolloLink.from([record, http]), cache });
}

async function session({ documents }) {
  const answers = [];
  const apollo = client(new InMemoryCache(), answers);
  const server = [];
  for (const d of documents) {
    await apollo.query({ query: gql(d.query), variables: d.variables, fetchPolicy: "network-only" });
    server.push(answers.at(-1));
  }
  const out = [];
  for (const [i, d] of documents.entries()) {
    const cached = await apollo.query({ query: gql(d.query), variables: d.variables, fetchPolicy: "cache-only" });
    out.push({ name: d.name, server: server[i], cached: cached.data ?? null });
  }
  return out;
}

// The type policies the README recommends to channel teams (keep the two in step).
export const typePolicies = {
  Query: {
    fields: {
      customers: relayStylePagination(["search", "filter", "orderBy"]),
      atRiskCustomers: relayStylePagination(),
      auditEvents: relayStylePagination(["subject", "customerId"]),
      loadRunsConnection: relayStylePagination(),
    },
  },
  Customer: { fields: { timeline: relayStylePagination(["channels", "kinds", "since", "until"]) } },
};

async function paging({ query, variables, all }) {
  const apollo = client(new InMemoryCache({ typePolicies }), []);
  const observable = apollo.watchQuery({ query: gql(query), variables });
  let subscription;
  const first = await new Promise((resolve, reject) => {
    subscription = observable.subscribe({
      next: (r) => {
        if (r.dataState === "complete") resolve(r);
      },
      error: reject,
    });
  });
  let info = first.data.customers.pageInfo;
  let pages = 1;
  while (info.hasNextPage) {
    const more = await observable.fetchMore({ variables: { after: info.endCursor } });
    info = more.data.customers.pageInfo;
    pages += 1;
  }
  const merged = apollo.readQuery({ query: gql(query), variables });
  subscription.unsubscribe();
  const plain = client(new InMemoryCache(), []);
  const whole = await plain.query({ query: gql(query), variables: all, fetchPolicy: "network-only" });
  return { pages, merged, all: whole.data };
}

const sessions = {};
for (const s of arg.sessions) sessions[s.name] = await session(s);
const result = { sessions, paging: arg.paging ? await paging(arg.paging) : null };
console.log(JSON.stringify(result));
