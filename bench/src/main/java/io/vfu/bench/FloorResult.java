package io.vfu.bench;

/** One floor run: round-trip percentiles (ns) of a 24-byte ping-pong, and the one-way message rate. */
record FloorResult(Stats rtt, double onewayMsgsPerSec) {
}
