#!/bin/sh
# make check: every seed of the JWS corpus through the fuzz target, under
# whatever sanitizers the build has.
exec ./tests/fuzz/replay_jws "$FUZZ_CORPUS/jws"
