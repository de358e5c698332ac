/*
 * A slow link for benchmark section 6, in a child process of its own (so its timers neither take the
 * measured process's CPU nor wait behind it): a TCP proxy that delays every chunk `oneWayMs` in each
 * direction, keeping their order. It cannot delay the TCP handshake itself (the client's connect completes
 * on loopback), so a new connection costs no round trip for SYN/SYN-ACK here, only for what is said on it.
 * argv[2] is JSON { listen: {host, port}, target: {host, port}, oneWayMs }; answers { type: 'connections' }
 * with how many connections it has carried.
 */
import * as net from 'node:net';

interface ProxyOptions {
  listen: { host: string; port: number };
  target: { host: string; port: number };
  oneWayMs: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ProxyOptions;
const sockets = new Set<net.Socket>();
let connections = 0;

function carry(client: net.Socket): void {
  connections += 1;
  const upstream = net.connect(options.target.port, options.target.host);
  for (const s of [client, upstream]) {
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
  // Timers of the same duration fire in the order they were set: chunks arrive in the order they left.
  const pipe = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), options.oneWayMs));
    from.on('end', () => setTimeout(() => to.end(), options.oneWayMs));
  };
  pipe(client, upstream);
  pipe(upstream, client);
}

const server = net.createServer(carry);
server.on('error', (err) => {
  process.stderr.write(`bench delay-proxy: ${err.message}\n`);
  process.exit(1);
});
server.listen(options.listen.port, options.listen.host, () => process.send?.({ type: 'ready' }));
process.on('message', (m: { type: string }) => {
  if (m.type === 'connections') process.send?.({ type: 'connections', connections });
});
process.on('disconnect', () => {
  for (const s of sockets) s.destroy();
  server.close(() => process.exit(0));
});
