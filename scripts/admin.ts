// npm run admin -- <command>: team mode's accounts from the server's own machine (docs/team-mode.md).
// Works on the database DATABASE_URL names (default file:./data/babysit.db), running server or not.
//
//   npm run admin -- create <name> [--role admin|member]   a new account (default: admin), one-time password printed (replaced at the first login)
//   npm run admin -- reset-password <name>                 a new one-time password; the user's sessions end
//   npm run admin -- list                                  the accounts
//   npm run admin -- role <name> admin|member              changes a role
//   npm run admin -- disable <name> / enable <name>        a disabled account cannot log in; its sessions end, its keys stop
//   npm run admin -- delete <name>                         deletes an account with its sessions and keys (runs and links stay)
// The last enabled admin can be neither demoted, disabled nor deleted. A running server notices
// within seconds (lib/auth/session-sockets.ts) and disconnects the account's live pages.
import { parseArgs } from "node:util";
import { AppError } from "../lib/errors";
import { type Role, ROLES, accountsReady, createUser, deleteUser, listUsers, resetPassword, updateUser, userIdByName } from "../lib/auth/users";

const USAGE = `usage:
  npm run admin -- create <name> [--role admin|member]
  npm run admin -- reset-password <name>
  npm run admin -- list
  npm run admin -- role <name> admin|member
  npm run admin -- disable <name>
  npm run admin -- enable <name>
  npm run admin -- delete <name>`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const OPTIONS = { role: { type: "string", default: "admin" }, help: { type: "boolean", short: "h" } } as const;

/** parseArgs's refusals (unknown option, option without its value) as one line saying what is accepted. */
function argumentProblem(e: unknown): string | null {
  const code = (e as { code?: string }).code ?? "";
  if (!code.startsWith("ERR_PARSE_ARGS")) return null;
  const message = (e as Error).message;
  // node names the option as '-x', '--role <value>' or '-h, --help'
  const option = /'(?:-\w, )?(--?[\w-]+)/.exec(message)?.[1] ?? "";
  const accepted = "accepted options: --role admin|member (with create), -h/--help";
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return `babysit admin: ${option || "an option"} ${message.includes("does not take") ? "takes no value" : "needs a value"}; ${accepted}`;
  }
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `babysit admin: unknown option ${option || "given"}; ${accepted}`;
  return `babysit admin: ${message.split("\n")[0]}; ${accepted}`;
}

function parse() {
  try {
    return parseArgs({ options: OPTIONS, allowPositionals: true });
  } catch (e) {
    const problem = argumentProblem(e);
    if (problem) fail(problem);
    throw e;
  }
}

async function main() {
  const { values, positionals } = parse();
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    return;
  }
  if (!accountsReady()) fail("babysit: the database has no accounts table yet; run `npm run migrate` first.");
  const [command, name, ...rest] = positionals;
  const role = command === "role" ? rest.shift() : undefined;
  if (rest.length) fail(`unexpected arguments: ${rest.join(" ")}\n${USAGE}`);
  switch (command) {
    case "create": {
      if (!name) fail(USAGE);
      if (!ROLES.includes(values.role as Role)) fail(`--role must be admin or member, got ${values.role}`);
      const { user, password } = await createUser(name, values.role as Role, null);
      console.log(`Made the ${user.role} account ${user.name}. One-time password (shown only now):\n\n    ${password}\n`);
      console.log(
        "It works once: after logging in at /login with it, the account must set its own password (on /account, or POST /api/v1/auth/password) before anything else.",
      );
      return;
    }
    case "reset-password": {
      if (!name) fail(USAGE);
      const password = await resetPassword(name);
      console.log(`New one-time password for ${name} (shown only now; their sessions ended):\n\n    ${password}\n`);
      console.log("It works once: after logging in with it, they must set their own password (on /account) before anything else.");
      return;
    }
    case "list":
      for (const u of listUsers())
        console.log(
          `${u.role.padEnd(7)} ${u.name}${u.disabledAt === null ? "" : " (disabled)"}${u.passwordChangeRequired ? " (one-time password)" : ""}`,
        );
      return;
    case "role": {
      if (!name || !role) fail(USAGE);
      if (!ROLES.includes(role as Role)) fail(`the role must be admin or member, got ${role}`);
      const u = updateUser(userIdByName(name), { role: role as Role });
      console.log(`${u.name} is now ${u.role === "admin" ? "an admin" : "a member"}.`);
      return;
    }
    case "disable":
    case "enable": {
      if (!name) fail(USAGE);
      updateUser(userIdByName(name), { disabled: command === "disable" });
      console.log(command === "disable" ? `Disabled ${name}: their sessions ended and their API keys stop working.` : `Enabled ${name}.`);
      return;
    }
    case "delete": {
      if (!name) fail(USAGE);
      deleteUser(userIdByName(name));
      console.log(`Deleted ${name} with their sessions and API keys; their runs and links stay.`);
      return;
    }
    default:
      fail(`unknown command ${command}\n${USAGE}`);
  }
}

main().catch((e) => {
  if (e instanceof AppError) fail(`babysit: ${e.message}`);
  console.error(e);
  process.exit(1);
});
