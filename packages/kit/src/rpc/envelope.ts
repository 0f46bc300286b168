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

/**
 * The one message of a unary call from its whole body, or undefined when the body holds none.
 * More than one is `extraMessage` (the caller says which side's protocol error it is, as
 * Connect's wording does); a compressed one cannot be read here (the unary paths negotiate none).
 */
export function decodeUnaryMessage<Desc extends DescMessage>(schema: Desc, body: Buffer, readMaxBytes: number, extraMessage: string): MessageShape<Desc> | undefined {
  if (body.byteLength === 0) return undefined;
  if (body.byteLength < headerBytes) throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  const flags = body[0] ?? 0;
  const length = body.readUInt32BE(1);
  if (length > readMaxBytes) {
    throw new ConnectError(`message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted);
  }
  const end = headerBytes + length;
  if (body.byteLength < end) throw new ConnectError('protocol error: incomplete envelope', Code.InvalidArgument);
  if (body.byteLength > end) throw new ConnectError(extraMessage, Code.Unimplemented);
  if ((flags & compressedFlag) !== 0) throw new ConnectError('received compressed envelope, but do not know how to decompress', Code.Internal);
  try {
    return fromBinary(schema, body.subarray(headerBytes, end));
  } catch (error) {
    throw new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
  }
}

/** Whether a body has grown past one message of `readMaxBytes`: stop reading it. */
export function exceedsUnaryLimit(receivedBytes: number, readMaxBytes: number): boolean {
  return receivedBytes > headerBytes + readMaxBytes;
}
