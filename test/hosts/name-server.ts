import dgram from 'node:dgram';
import { decode, encode, type Answer } from 'dns-packet';

export interface NameServer {
  /** Sets the A records of a name (several: one a replica, as a headless Service has). */
  set(name: string, addresses: readonly string[]): void;
  close(): Promise<void>;
}

/**
 * A DNS server for the lab's hosts (UDP, port 53 on the bridge): A records from a table, with a
 * one-second TTL, NXDOMAIN for anything else; what Kubernetes' DNS answers for a headless
 * Service. Node's `dns.resolve4` (the kit's `dns:` discovery) asks a server, never /etc/hosts,
 * so the hosts need one. dns-packet reads and writes the messages.
 */
export async function startNameServer(address: string): Promise<NameServer> {
  const records = new Map<string, readonly string[]>();
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, from) => {
    let query;
    try {
      query = decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    const found = question === undefined ? undefined : records.get(question.name.toLowerCase());
    const answers: Answer[] = question?.type === 'A' && found !== undefined ? found.map((data) => ({ type: 'A', name: question.name, ttl: 1, class: 'IN', data })) : [];
    const reply = encode({
      type: 'response', id: query.id ?? 0, flags: (found === undefined ? 3 : 0) | 0x8000 | 0x0400 | 0x0100 | 0x0080,
      questions: query.questions ?? [], answers,
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(53, address, () => resolve());
  });
  return {
    set: (name, addresses) => void records.set(name.toLowerCase(), addresses),
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
