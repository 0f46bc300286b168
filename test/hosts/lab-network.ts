import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs a command, failing with what it printed. */
export async function run(command: string, args: readonly string[]): Promise<string> {
  try {
    return (await exec(command, args)).stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${command} ${args.join(' ')}: ${stderr?.trim() ?? String(error)}`, { cause: error });
  }
}

export interface LabHost {
  name: string;
  /** Its address on the lab's bridge. */
  address: string;
  /** The network namespace it lives in: `ip netns exec <netns> …`. */
  netns: string;
  /** Its end of the veth pair on the bridge's side (in the machine's namespace). */
  outerLink: string;
}

export interface LabNetwork {
  /** The bridge's own address: where the machine's processes (PostgreSQL, the name server, the load) are reached from the hosts. */
  readonly gateway: string;
  addHost(name: string): Promise<LabHost>;
  /** In the host's namespace: `iptables …`. */
  iptables(host: LabHost, args: readonly string[]): Promise<void>;
  /** Takes the host off the network (its link down) or puts it back. */
  setLinkUp(host: LabHost, up: boolean): Promise<void>;
  close(): Promise<void>;
}

/**
 * Hosts as the multi-host proof wants them: a network namespace each, with an address of
 * its own on one bridge (veth pairs), a default route through the bridge, and nothing shared with
 * the machine but what the bridge carries. Names are short (interface names are at most 15
 * characters) and carry a random tag, so two labs on one machine do not meet.
 */
export async function createLabNetwork({ tag, subnet }: { tag: string; subnet: string }): Promise<LabNetwork> {
  const bridge = `bt${tag}br`;
  const gateway = `${subnet}.1`;
  const hosts: LabHost[] = [];
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  return {
    gateway,
    async addHost(name) {
      const index = hosts.length + 10;
      const host = { name, address: `${subnet}.${index}`, netns: `bt${tag}-${name}`, outerLink: `bt${tag}v${index}` };
      const inner = `bt${tag}i${index}`;
      await run('ip', ['netns', 'add', host.netns]);
      hosts.push(host);
      await run('ip', ['link', 'add', host.outerLink, 'type', 'veth', 'peer', 'name', inner]);
      await run('ip', ['link', 'set', inner, 'netns', host.netns]);
      await run('ip', ['link', 'set', host.outerLink, 'master', bridge, 'up']);
      await run('ip', ['-n', host.netns, 'link', 'set', inner, 'name', 'eth0']);
      await run('ip', ['-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      await run('ip', ['-n', host.netns, 'link', 'set', 'eth0', 'up']);
      await run('ip', ['-n', host.netns, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', host.netns, 'route', 'add', 'default', 'via', gateway]);
      return host;
    },
    async iptables(host, args) {
      await run('ip', ['netns', 'exec', host.netns, 'iptables', ...args]);
    },
    async setLinkUp(host, up) {
      await run('ip', ['link', 'set', host.outerLink, up ? 'up' : 'down']);
    },
    async close() {
      for (const host of hosts) await run('ip', ['netns', 'del', host.netns]).catch(() => undefined);
      await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    },
  };
}
