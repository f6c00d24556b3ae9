/**
 * The trace worker thread: takes recorded calls off the shared ring (trace-ops.ts) and runs TraceWriters, so
 * framing, checksums, message decoding and file writes happen off the connection's thread.
 */
import { workerData } from 'node:worker_threads';
import { RingConsumer, type RingBuffers } from './shared-ring.js';
import { applyOp } from './trace-ops.js';
import { TraceWriters, type TraceWritersConfig } from './trace-writers.js';

export interface TraceWorkerData {
  readonly ring: RingBuffers;
  readonly config: TraceWritersConfig;
}

const { ring, config } = workerData as TraceWorkerData;
const consumer = new RingConsumer(ring);
const data = new Uint8Array(ring.data);
const view = new DataView(ring.data);
try {
  const writers = new TraceWriters(config);
  // Ends when the producer closes the ring and it is drained (RingConsumer.next returns undefined).
  for (let rec = consumer.next(); rec !== undefined; rec = consumer.next()) {
    applyOp(writers, data, view, rec[0], rec[1]);
    consumer.release();
  }
  writers.finish();
  consumer.done();
} catch (e) {
  consumer.fail(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}
