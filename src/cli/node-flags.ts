/**
 * The V8 flags Stellwerk runs with: `npm start` passes them, the `stellwerk` command's first line
 * (`#!/usr/bin/env -S node …`) does, and the benchmark starts Stellwerk with them; a test keeps
 * the three in step. Node cannot take them once running (V8 sizes its heap when it starts), so
 * they live where the process is started.
 *
 * `--max-semi-space-size=32`: a young generation of up to 2 × 32 MB instead of 2 × 16 MB. A
 * gateway allocates a few short-lived objects per request (parsed bodies, headers, log rows);
 * with the larger nursery fewer of them live through a scavenge and get copied, and scavenges
 * come half as often. Measured alternating builds under the same load: about 4–6% less CPU per
 * answer, for up to 32 MB more memory (README, "Running it").
 */
export const STELLWERK_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
