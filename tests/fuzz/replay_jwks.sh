#!/bin/sh
# make check: every seed of the JWK Set corpus through the fuzz target, under
# whatever sanitizers the build has.
exec ./tests/fuzz/replay_jwks "$FUZZ_CORPUS/jwks"
