#!/bin/sh
# make check: every input of the differential ECDSA corpus through the fuzz
# target (the fast verifier against OpenSSL), under whatever sanitizers the
# build has.
exec ./tests/fuzz/replay_ecdsa_diff "$FUZZ_CORPUS/ecdsa_diff"
