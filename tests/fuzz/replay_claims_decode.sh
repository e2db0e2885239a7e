#!/bin/sh
# make check: every seed of the shared-cache value corpus through the fuzz
# target, under whatever sanitizers the build has.
exec ./tests/fuzz/replay_claims_decode "$FUZZ_CORPUS/claims_decode"
