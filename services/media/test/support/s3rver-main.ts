// s3rver in a process of its own, serving a bucket `media` from the folder given as the first
// argument on a free port, which it prints as one line of JSON (`{"port":...}`). It ends when its
// standard input closes: when the test process that started it is done, however that ends.
import S3rver from 's3rver';

const [directory] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: 'media', configs: [] }] });
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.once('end', () => {
  void server.close().finally(() => process.exit(0));
});
