import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';

/** A stream of random bytes made as it is read, never held whole, and what it has made so far. */
export interface GeneratedBytes {
  readonly stream: Readable;
  /** Bytes handed to the stream's reader so far. */
  readonly producedBytes: number;
  /** The sha256 (hex) of the bytes produced so far: of all of them, once the stream ended. */
  sha256(): string;
}

/**
 * `totalBytes` random bytes in chunks of `chunkBytes`, each made when the reader asks for it, so
 * a test can send a large body and know whether whoever read it held it whole.
 *
 * @example
 * const upload = generateBytes(20 * 1024 * 1024);
 * await client.request({ method: 'PUT', path: '/blob', body: upload.stream, headers, signal });
 */
export function generateBytes(totalBytes: number, { chunkBytes = 64 * 1024 } = {}): GeneratedBytes {
  const hash = createHash('sha256');
  let producedBytes = 0;
  let digest: string | undefined;
  const stream = new Readable({
    read() {
      if (producedBytes >= totalBytes) return void this.push(null);
      const chunk = randomBytes(Math.min(chunkBytes, totalBytes - producedBytes));
      producedBytes += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return {
    stream,
    get producedBytes() {
      return producedBytes;
    },
    sha256: () => (producedBytes < totalBytes ? hash.copy().digest('hex') : (digest ??= hash.digest('hex'))),
  };
}

/** What a `hashingSink` has received. */
export interface HashingSink {
  readonly sink: Writable;
  readonly receivedBytes: number;
  /** The sha256 (hex) of every byte received; ask once the sink finished. */
  sha256(): string;
}

/**
 * A Writable that hashes what it receives and keeps none of it; `onChunk` is told the running
 * total after each chunk (to sample memory during a transfer, say).
 *
 * @example
 * const received = hashingSink();
 * await pipeline(response.body, received.sink);
 */
export function hashingSink(onChunk?: (receivedBytes: number) => void): HashingSink {
  const hash = createHash('sha256');
  let receivedBytes = 0;
  let digest: string | undefined;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      receivedBytes += chunk.length;
      onChunk?.(receivedBytes);
      callback();
    },
  });
  return {
    sink,
    get receivedBytes() {
      return receivedBytes;
    },
    sha256: () => (digest ??= hash.digest('hex')),
  };
}

let gc: (() => void) | undefined;

/**
 * Memory still reachable after a full collection: the JS heap and the memory outside it that
 * Buffers hold, where a body kept whole would sit. Sampled during a transfer, it shows whether
 * anything on the way holds the whole body.
 *
 * @example
 * const baseline = liveBytesAfterGc();
 */
export function liveBytesAfterGc(): number {
  if (gc === undefined) {
    // Test files cannot pass --expose-gc; the flag can still be set, and gc read from a new context.
    v8.setFlagsFromString('--expose_gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/**
 * Calls `sample` every `everyBytes` of a running total, and keeps the highest value it returned:
 * the peak of what a transfer kept alive, as `liveBytesAfterGc` sees it.
 *
 * @example
 * const peak = peakSampler(2 * 1024 * 1024);
 * const received = hashingSink((bytes) => peak.at(bytes));
 */
export function peakSampler(everyBytes: number, sample: () => number = liveBytesAfterGc): { at(totalBytes: number): void; readonly peak: number; readonly samples: number } {
  let next = everyBytes;
  let peak = 0;
  let samples = 0;
  return {
    at(totalBytes) {
      if (totalBytes < next) return;
      next = totalBytes + everyBytes;
      peak = Math.max(peak, sample());
      samples++;
    },
    get peak() {
      return peak;
    },
    get samples() {
      return samples;
    },
  };
}
