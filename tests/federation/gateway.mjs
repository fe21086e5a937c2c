// A real Apollo Gateway (npm's @apollo/gateway) composing the hub and the dormitory
// subgraph by introspecting their _service { sdl }; the caller's Authorization header
// goes to each subgraph, so the hub applies its row rules to the caller, not the gateway.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: "hub", url: process.env.HUB_URL },
      { name: "dormitory", url: process.env.DORMITORY_URL },
    ],
  }),
  buildService({ url }) {
    return new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        if (context.authorization) {
          request.http.headers.set("authorization", context.authorization);
        }
      },
    });
  },
});

const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT), host: "127.0.0.1" },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`gateway ready at ${url}`);
