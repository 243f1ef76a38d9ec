// npm run demo: trains two small nets for real (hand-written backprop, sdk/ts/examples/train.ts) and
// streams them into a running babysit server through the TypeScript SDK: a healthy one, and one
// with a learning rate far too high that the babysitter catches. Open the URLs it prints.
import { runDemo } from "../sdk/ts/examples/train";

// The server's address, as npm start reads it: BABYSIT_URL, else HOST and PORT (a wildcard HOST such as
// 0.0.0.0 listens everywhere, so the demo talks to this machine's loopback).
const host = !process.env.HOST || ["0.0.0.0", "::"].includes(process.env.HOST) ? "127.0.0.1" : process.env.HOST;
const url = (process.env.BABYSIT_URL ?? `http://${host.includes(":") ? `[${host}]` : host}:${process.env.PORT ?? 3000}`).replace(/\/+$/, "");
const delayMs = Number(process.env.DEMO_DELAY_MS ?? 40);

// the probe carries the key the SDK will send (a team server answers 401 without one): a 401/403
// is a server that answered, and the message must say it is the key, not the server, that is wrong
const key = process.env.BABYSIT_API_KEY?.trim();
const probe = await fetch(`${url}/api/v1/runs?limit=1`, key ? { headers: { authorization: `Bearer ${key}` } } : {}).catch(() => null);
if (probe?.status === 401 || probe?.status === 403) {
  const why = !key
    ? "it is a team server and needs an API key: make one on its /account page and set BABYSIT_API_KEY=<key>"
    : probe.status === 401
      ? "it refused BABYSIT_API_KEY (unknown, revoked or expired: make a new key on its /account page)"
      : "BABYSIT_API_KEY may not read runs there (make a key that may write to the demo project on its /account page)";
  console.error(`babysit demo: the server at ${url} answered ${probe.status}: ${why}.`);
  process.exit(1);
}
if (!probe?.ok) {
  console.error(`babysit demo: no server answers at ${url}. Start it first with \`npm start\` (or set BABYSIT_URL).`);
  process.exit(1);
}
console.log(`babysit demo: streaming into ${url} (runs list: ${url}/)`);
const stamp = new Date().toISOString().slice(11, 19).replace(/:/g, "");
await Promise.all([
  runDemo({ url, project: "demo", name: `spiral-mlp-${stamp}`, steps: 1500, delayMs }).then((r) => {
    console.log(`  healthy run finished: val acc ${r.valAcc.toFixed(3)} -> ${r.url}`);
  }),
  runDemo({ url, project: "demo", name: `spiral-mlp-lr40-${stamp}`, steps: 300, delayMs: delayMs * 2, lr: 40 }).then((r) => {
    console.log(`  diverging run finished (lr 40) -> ${r.url}`);
  }),
]);
