import { type DescMessage, type MessageShape, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';

// gRPC's length-prefixed message on HTTP/2: one flags byte (bit 0: compressed), four bytes of
// length (big endian), the message. The kit's unary paths (the client transport and the server's
// unary path) send exactly one, uncompressed, and read exactly one; the errors and their codes
// are Connect-ES's own for the same faults, so a caller cannot tell which path answered.

const headerBytes = 5;
const compressedFlag = 0b1;

/** The one message of a unary call, serialized and framed. */
export function encodeUnaryMessage<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>, writeMaxBytes: number): Buffer {
  let bytes: Uint8Array;
  try {
    bytes = toBinary(schema, message);
  } catch (error) {
    throw new ConnectError(`serialize binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
  }
  if (bytes.byteLength > writeMaxBytes) {
    throw new ConnectError(`message size ${bytes.byteLength} is larger than configured writeMaxBytes ${writeMaxBytes}`, Code.ResourceExhausted);
  }
  const frame = Buffer.allocUnsafe(headerBytes + bytes.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(bytes.byteLength, 1);
  frame.set(bytes, headerBytes);
  return frame;
}

export interface UnaryMessageReader {
  /** Takes the body's next bytes; throws as soon as they cannot be one message within the limit. */
  push(chunk: Buffer): void;
  /** The one message, once the body has ended; undefined when it held none. */
  read<Desc extends DescMessage>(schema: Desc): MessageShape<Desc> | undefined;
}

/**
 * Reads the one message of a unary call as its bytes arrive, and stops at the first byte that
 * breaks the rules: a message declared larger than `readMaxBytes` (so it is never buffered), or
 * bytes after the first message (`extraMessage`: the caller says whose protocol error it is, as
 * Connect's wording does). A compressed message cannot be read here (the unary paths negotiate
 * no compression).
 */
export function createUnaryMessageReader(readMaxBytes: number, extraMessage: string): UnaryMessageReader {
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  let declaredBytes: number | undefined;
  return {
    push(chunk) {
      chunks.push(chunk);
      receivedBytes += chunk.byteLength;
      if (declaredBytes === undefined && receivedBytes >= headerBytes) {
        const head = (chunks[0] as Buffer).byteLength >= headerBytes ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        declaredBytes = head.readUInt32BE(1);
        if (declaredBytes > readMaxBytes) {
          throw new ConnectError(`message size ${declaredBytes} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
        }
      }
      if (declaredBytes !== undefined && receivedBytes > headerBytes + declaredBytes) throw new ConnectError(extraMessage, Code.Unimplemented);
    },
    read(schema) {
      if (receivedBytes === 0) return undefined;
      if (declaredBytes === undefined || receivedBytes < headerBytes + declaredBytes) {
        throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
      }
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      if (((body[0] ?? 0) & compressedFlag) !== 0) throw new ConnectError('received compressed envelope, but do not know how to decompress', Code.Internal);
      try {
        return fromBinary(schema, body.subarray(headerBytes));
      } catch (error) {
        throw new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
      }
    },
  };
}
