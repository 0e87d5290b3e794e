// A stock Better Auth server for the integration tests: email and password, the bearer plugin,
// its own migrations, on PostgreSQL (`pg`) or SQLite (`better-sqlite3`).
//
// Environment: BETTER_AUTH_SECRET, BETTER_AUTH_DATABASE (a postgres:// URL or a SQLite file path).
// Listens on a free port of 127.0.0.1 and prints one line, `listening http://127.0.0.1:PORT`.
import http from "node:http";

import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { bearer } from "better-auth/plugins";

const secret = process.env.BETTER_AUTH_SECRET;
const location = process.env.BETTER_AUTH_DATABASE;
if (!secret || !location) {
  console.error("BETTER_AUTH_SECRET and BETTER_AUTH_DATABASE are required");
  process.exit(2);
}

async function database() {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { default: pg } = await import("pg");
    return new pg.Pool({ connectionString: location });
  }
  const { default: Database } = await import("better-sqlite3");
  return new Database(location);
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

const auth = betterAuth({
  secret,
  baseURL,
  database: await database(),
  emailAndPassword: { enabled: true },
  user: { deleteUser: { enabled: true } },
  plugins: [bearer()],
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
});

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

server.on("request", toNodeHandler(auth));
console.log(`listening ${baseURL}`);

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
