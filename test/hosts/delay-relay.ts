// A TCP relay that holds every chunk it passes, either way, for DELAY_MS: run inside a host's
// network namespace, with the host's incoming connections to a port redirected to it
// (iptables REDIRECT), it gives that host a one-way delay on the wire. What `tc netem delay`
// would do: this sandbox's kernel has no netem ("Specified qdisc kind is unknown").
//   node delay-relay.ts <listen port> <target port> <delay ms>
import net from 'node:net';

const [listenPort, targetPort, delayMs] = process.argv.slice(2).map(Number) as [number, number, number];

function delayed(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk) => {
    setTimeout(() => { if (!to.destroyed) to.write(chunk); }, delayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}

net.createServer((client) => {
  const upstream = net.connect(targetPort, '127.0.0.1');
  delayed(client, upstream);
  delayed(upstream, client);
}).listen(listenPort, '0.0.0.0', () => process.stdout.write(`relaying ${listenPort} → ${targetPort} with ${delayMs} ms\n`));
