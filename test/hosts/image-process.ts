import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { LabHost } from './lab-network.ts';

export interface ImageProcess {
  readonly host: LabHost;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) once it has ended. */
  readonly exited: Promise<number | string>;
  /** SIGTERM to the service, as a kubelet sends it; then SIGKILL after `graceMs` if it is still there. */
  stop(graceMs?: number): Promise<number | string>;
}

export interface ImageProcessOptions {
  host: LabHost;
  /** The image's filesystem, read-only (`podman image mount`). */
  rootfs: string;
  /** The file it runs, inside the image: `/app/services/orders/src/main.ts`. */
  entry: string;
  env: Record<string, string>;
  /** A folder of the machine's, mounted writable at `/run/baton` (its secrets and its data folders), owned by uid 1000. */
  runFolder: string;
  /** The `resolv.conf` the host is given (the lab's name server). */
  resolvConf: string;
  logFile: string;
}

/**
 * One service run from its image as a host of the lab, as a container runtime would run it but
 * with what this sandbox allows (`podman run` is refused here): in the host's network namespace,
 * a PID namespace of its own (the service is PID 1 and gets SIGTERM itself), a mount namespace
 * of its own in which the image's filesystem is the root, read-only, with a tmpfs at /tmp, /proc,
 * /dev, its resolv.conf and its run folder mounted in; chroot'ed there as uid 1000, with only
 * the environment it is given.
 */
export function startImageProcess({ host, rootfs, entry, env, runFolder, resolvConf, logFile }: ImageProcessOptions): ImageProcess {
  const script = [
    'set -e',
    'mount -t tmpfs -o size=64m,mode=1777 tmpfs "$ROOTFS/tmp"',
    'mount -t proc proc "$ROOTFS/proc"',
    'mount --bind /dev "$ROOTFS/dev"',
    'mount --bind "$RESOLV" "$ROOTFS/etc/resolv.conf"',
    'mount --bind "$RUN_FOLDER" "$ROOTFS/run"',
    'exec env -i "$@"',
  ].join('\n');
  const environment = Object.entries({ PATH: '/usr/local/bin', ...env }).map(([k, v]) => `${k}=${v}`);
  const child = spawn('ip', [
    'netns', 'exec', host.netns, 'unshare', '--mount', '--pid', '--fork', '--kill-child=SIGKILL', '--propagation', 'private',
    'bash', '-c', script, 'image-process', ...environment, '/usr/sbin/chroot', '--userspec=1000:1000', rootfs, '/usr/local/bin/node', entry,
  ], { env: { ROOTFS: rootfs, RESOLV: resolvConf, RUN_FOLDER: runFolder, PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    host,
    child,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      // unshare --fork forwards no signal: SIGTERM goes to the service itself, its child (PID 1
      // of the namespace, which takes SIGTERM because the kit handles it: it drains and exits).
      const service = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').then((text) => Number(text.trim().split(' ')[0]), () => Number.NaN);
      const known = Number.isInteger(service) && service > 0;
      if (known) process.kill(service, 'SIGTERM');
      else child.kill('SIGTERM');
      // After the grace, the service itself is killed too: unshare's --kill-child does not reach
      // it, since the parent-death signal is cleared when chroot --userspec changes its user
      // (killed unshares left every such service running, seen after test:hosts runs).
      const timer = setTimeout(() => {
        if (known) {
          try {
            process.kill(service, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
