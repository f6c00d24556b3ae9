/** Two connected in-memory Duplex streams: an in-process "socket" pair for Transport, without TCP in the way. */
import { Duplex } from 'node:stream';

export function duplexPair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const make = (peer: () => Duplex) => new Duplex({
    read() { /* data is pushed by the peer's write */ },
    write(chunk: Buffer, _enc, cb) { peer().push(chunk); cb(); },
    final(cb) { peer().push(null); cb(); },
  });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
