// npm run admin -- <command>: team mode's accounts from the server's own machine (docs/team-mode.md).
// Works on the database DATABASE_URL names (default file:./data/babysit.db), running server or not.
//
//   npm run admin -- create <name> [--role admin|member]   a new account (default: admin), one-time password printed
//   npm run admin -- reset-password <name>                 a new one-time password; the user's sessions end
//   npm run admin -- list                                  the accounts
import { parseArgs } from "node:util";
import { AppError } from "../lib/errors";
import { type Role, ROLES, accountsReady, createUser, listUsers, resetPassword } from "../lib/auth/users";

const USAGE = `usage:
  npm run admin -- create <name> [--role admin|member]
  npm run admin -- reset-password <name>
  npm run admin -- list`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main() {
  const { values, positionals } = parseArgs({
    options: { role: { type: "string", default: "admin" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return;
  }
  if (!accountsReady()) fail("babysit: the database has no accounts table yet; run `npm run migrate` first.");
  const [command, name, ...rest] = positionals;
  if (rest.length) fail(`unexpected arguments: ${rest.join(" ")}\n${USAGE}`);
  switch (command) {
    case "create": {
      if (!name) fail(USAGE);
      if (!ROLES.includes(values.role as Role)) fail(`--role must be admin or member, got ${values.role}`);
      const { user, password } = await createUser(name, values.role as Role, null);
      console.log(`Made the ${user.role} account ${user.name}. One-time password (shown only now):\n\n    ${password}\n`);
      console.log("Log in at /login with it, then change it on /account (or POST /api/v1/auth/password).");
      return;
    }
    case "reset-password": {
      if (!name) fail(USAGE);
      const password = await resetPassword(name);
      console.log(`New one-time password for ${name} (shown only now; their sessions ended):\n\n    ${password}\n`);
      return;
    }
    case "list":
      for (const u of listUsers()) console.log(`${u.role.padEnd(7)} ${u.name}`);
      return;
    default:
      fail(`unknown command ${command}\n${USAGE}`);
  }
}

main().catch((e) => {
  if (e instanceof AppError) fail(`babysit: ${e.message}`);
  console.error(e);
  process.exit(1);
});
