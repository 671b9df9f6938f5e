// A free TCP port on 127.0.0.1 for a server a test starts as another process (it binds the port
// itself, so the port is found by opening and closing a listener).
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}
