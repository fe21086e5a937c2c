// Runs graphql-http's server audits (the GraphQL-over-HTTP specification's cases) against
// the hub at HUB_URL and prints one JSON line per audit: {id, name, status, reason}.
import { serverAudits } from "graphql-http";

const url = process.env.HUB_URL;
const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  results.push({
    id: audit.id,
    name: audit.name,
    status: result.status,
    reason: result.status === "ok" ? null : String(result.reason),
  });
  if (result.response && result.response.body && !result.response.bodyUsed) {
    await result.response.body.cancel();
  }
}
process.stdout.write(JSON.stringify(results) + "\n");
