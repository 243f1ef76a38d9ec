import type http from "node:http";

/** A listener that could not start, with the one line to print (no stack: the cause is the user's setup). */
export class ListenError extends Error {}

const REASONS: Record<string, (where: string, env: string) => string> = {
  EADDRINUSE: (where, env) => `${where} is already in use (another babysit or program listens there); stop it or set ${env}=<another port>`,
  EACCES: (where, env) => `${where} may not be used by this user (ports below 1024 need privileges); set ${env}=<a port above 1023>`,
  EADDRNOTAVAIL: (where) => `${where}: this machine has no such address; set HOST to one of its addresses (or 127.0.0.1)`,
};

/**
 * Starts `server` on host:port, or rejects with a ListenError whose message says in one line which
 * port failed and which variable (`env`, e.g. PORT or BABYSIT_SHARE_PORT) picks another.
 */
export function listen(server: http.Server, port: number, host: string, env: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `port ${port} on ${host}`;
      const reason = REASONS[err.code ?? ""];
      reject(new ListenError(`babysit: cannot listen: ${reason ? reason(where, env) : `${where}: ${err.message}`}`));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
