import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { request, type Agent } from 'undici';

/**
 * A real PNG of about 48 MB that media takes (≤ 50 MiB, ≤ 50 million pixels): 4000 × 4000 of
 * random RGB noise, stored without compression (`compressionLevel: 0`), so its bytes are as many
 * as its pixels' and no smaller file stands in for a large one. Noise is also about the hardest
 * thing to encode as WebP, so each render costs at least what a photograph's would.
 */
export async function noisePng({ width = 4000, height = 4000 } = {}): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

/** Where uploads go and with what headers: the gateway's public route, media's own, or the server inside orders. */
export interface UploadTarget {
  /** What the report calls it. */
  label: string;
  /** The upload route's URL for a product. */
  urlOf(sku: string): string;
  headers(): Promise<Record<string, string>>;
}

/** What the uploaders did between `start` and the moment the last of them stopped. */
export interface UploadsDone {
  completed: number;
  failed: number;
  /** Bytes of the uploads answered 202. */
  bytes: number;
  seconds: number;
  /** Each completed upload's time, first byte sent to answer. */
  latenciesMs: number[];
  /** The first few refusals, as answered (status and the start of the body). */
  refusals: string[];
}

export interface Uploaders {
  /** Resolves when the first upload has been answered (the renders have begun too), or after `timeoutMs`. */
  firstAnswered(timeoutMs: number): Promise<void>;
  /** Lets each uploader finish the upload it is sending, starts no new one, and says what they did. */
  stop(): Promise<UploadsDone>;
}

/**
 * `count` uploaders, each sending `image` to `target` for one of `skus` (uploader i the i-th,
 * round the list), waiting for the answer and sending it again, until stopped. The body is the
 * same Buffer for all: undici writes it to the socket as it is, so the bench holds 48 MB once.
 */
export function startUploaders(target: UploadTarget, image: Buffer, dispatcher: Agent, { count, skus }: { count: number; skus: readonly string[] }): Uploaders {
  let stopping = false;
  const done: UploadsDone = { completed: 0, failed: 0, bytes: 0, seconds: 0, latenciesMs: [], refusals: [] };
  let onFirst: () => void = () => {};
  const first = new Promise<void>((resolve) => { onFirst = resolve; });
  const startedAt = performance.now();

  async function uploadOnce(sku: string): Promise<void> {
    const t0 = performance.now();
    try {
      const answer = await request(target.urlOf(sku), {
        method: 'POST', dispatcher, body: image,
        headers: { ...await target.headers(), 'content-type': 'image/png' },
      });
      const text = await answer.body.text();
      if (answer.statusCode !== 202) throw new Error(`${answer.statusCode} ${text.slice(0, 200)}`);
      done.completed += 1;
      done.bytes += image.length;
      done.latenciesMs.push(performance.now() - t0);
      onFirst();
    } catch (error) {
      done.failed += 1;
      if (done.refusals.length < 5) done.refusals.push((error as Error).message);
      // A refusal comes back at once: not a loop of refusals as fast as the machine can send them.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  const loops = Array.from({ length: count }, async (_, uploader) => {
    const sku = skus[uploader % skus.length] as string;
    while (!stopping) await uploadOnce(sku);
  });

  return {
    async firstAnswered(timeoutMs) {
      await Promise.race([first, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    },
    async stop() {
      stopping = true;
      await Promise.all(loops);
      done.seconds = (performance.now() - startedAt) / 1000;
      return done;
    },
  };
}

/** Uploads' throughput in MB/s (10^6 bytes) over the time the uploaders ran. */
export const megabytesPerSecond = ({ bytes, seconds }: Pick<UploadsDone, 'bytes' | 'seconds'>) => (seconds > 0 ? bytes / 1e6 / seconds : Number.NaN);
