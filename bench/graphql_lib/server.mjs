// The benchmark's comparison arm (issue 24): our graph served by @neo4j/graphql 7 behind Apollo
// Server, with an @authorization rule equivalent to our relationship-manager scope
// (typeDefs.graphql). A measuring stick for bench/compare_graphql.py, not part of the product.
//
// Environment (all required; bench/compare_graphql.py sets them):
//   NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD   the graph (the benchmark's own server)
//   PORT                                    HTTP port, bound to 127.0.0.1 only
//   JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE    HS256 with our development secret, so one token
//                                           from `c360 token` serves both servers
//   DEBUG=@neo4j/graphql:*                  optional: the library logs the Cypher it generates
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`server.mjs: the environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
}

const typeDefs = readFileSync(new URL("./typeDefs.graphql", import.meta.url), "utf8");
const driver = neo4j.driver(
  required("NEO4J_URI"),
  neo4j.auth.basic(required("NEO4J_USER"), required("NEO4J_PASSWORD")),
);
const neoSchema = new Neo4jGraphQL({
  typeDefs,
  driver,
  features: {
    authorization: {
      key: required("JWT_SECRET"),
      verifyOptions: {
        algorithms: ["HS256"],
        issuer: required("JWT_ISSUER"),
        audience: required("JWT_AUDIENCE"),
      },
    },
  },
});
const server = new ApolloServer({ schema: await neoSchema.getSchema() });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(required("PORT")), host: "127.0.0.1" },
  context: async ({ req }) => ({ token: req.headers.authorization }),
});
console.log(`graphql-lib: ready ${url}`);

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    await server.stop();
    await driver.close();
    process.exit(0);
  });
}
