import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** A real image of `width` × `height`, one colour, made with sharp. */
export function picture(format: 'png' | 'jpeg' | 'webp' | 'avif', width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#c0ffee' } }).toFormat(format).toBuffer();
}

/**
 * A PNG whose header says `width` × `height`, with 64 KiB of pixels compressed to a few hundred
 * bytes: what a decompression bomb is made of. Made by hand (chunks and their CRCs), since no
 * encoder would make one this size.
 */
export function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // 8 bits, greyscale, no interlace
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.alloc(65_536))), chunk('IEND', Buffer.alloc(0))]);
}
