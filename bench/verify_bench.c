/* ECDSA verifications per second on one core: the fast verifier with the
 * key's table (lib/logto_ecfast.c) against OpenSSL's EVP_DigestVerify on the
 * same signatures, and both through the module's own logto_jws_verify (the
 * table path, and the prepared OpenSSL context used when there is no table).
 * Also the time to build a key's table and its size.
 *
 *   build/.../bench/verify_bench [-s SECONDS] [-r ROUNDS] [CURVE...]
 *       default: 5 rounds of 1 s per figure, every covered curve
 *
 * "OpenSSL" is EVP_DigestVerifyInit + EVP_DigestVerify per signature, as a
 * program that uses OpenSSL directly would do; "module EVP" and "module fast"
 * are logto_jws_verify without and with the key's table. The ratio is the
 * median over the rounds of module fast / OpenSSL measured back to back.
 * Every signature is checked on every path before timing (valid ones must
 * verify, a corrupted copy must not), so a figure is never that of a
 * verifier that says no to everything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "logto_alg.h"
#include "logto_b64.h"
#include "logto_ecfast.h"
#include "logto_jwk.h"
#include "logto_jws.h"

#define N_SIGS    256
#define MSG_LEN   600 /* about a Logto token's header.payload */
#define MAX_COORD 66

typedef struct {
    const char *name; /* as on the command line */
    const char *group;
    const char *alg;
    logto_crv_e crv;
    apr_size_t coord;
} bench_curve_t;

static const bench_curve_t curves[] = {
    {"P-256", "prime256v1", "ES256", LOGTO_CRV_P256, 32},
    {"P-384", "secp384r1", "ES384", LOGTO_CRV_P384, 48},
    {"P-521", "secp521r1", "ES512", LOGTO_CRV_P521, 66},
};

typedef struct {
    unsigned char msg[MSG_LEN];
    unsigned char der[160];
    size_t der_len;
    unsigned char raw[2 * MAX_COORD];
} signed_msg_t;

typedef struct {
    const bench_curve_t *curve;
    EVP_PKEY *pkey;
    logto_jwk_t *plain; /* no table: OpenSSL */
    logto_jwk_t *fast;  /* with its table */
    signed_msg_t sigs[N_SIGS];
    logto_jws_t jws[N_SIGS];
} bench_t;

static void die(const char *what)
{
    fprintf(stderr, "verify_bench: %s\n", what);
    exit(1);
}

static const char *public_jwk(apr_pool_t *p, const bench_curve_t *c, EVP_PKEY *pkey)
{
    unsigned char pt[1 + 2 * MAX_COORD];
    size_t len = 0;

    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len) != 1
        || len != 1 + 2 * c->coord) {
        die("cannot read the public key");
    }
    return apr_psprintf(p, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", c->name,
                        logto_b64url_encode(p, pt + 1, c->coord),
                        logto_b64url_encode(p, pt + 1 + c->coord, c->coord));
}

static void sign(const bench_curve_t *c, EVP_PKEY *pkey, signed_msg_t *s)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = logto_alg_md(logto_alg_from_name(c->alg));
    const unsigned char *p = s->der;
    ECDSA_SIG *es;

    if (RAND_bytes(s->msg, sizeof(s->msg)) != 1) {
        die("RAND_bytes");
    }
    s->der_len = sizeof(s->der);
    if (!ctx || EVP_DigestSignInit(ctx, NULL, md, NULL, pkey) != 1
        || EVP_DigestSign(ctx, s->der, &s->der_len, s->msg, sizeof(s->msg)) != 1
        || !(es = d2i_ECDSA_SIG(NULL, &p, (long)s->der_len))) {
        die("cannot sign");
    }
    if (BN_bn2binpad(ECDSA_SIG_get0_r(es), s->raw, (int)c->coord) != (int)c->coord
        || BN_bn2binpad(ECDSA_SIG_get0_s(es), s->raw + c->coord, (int)c->coord) != (int)c->coord) {
        die("signature too long");
    }
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
}

static int evp_verify(const bench_t *b, const signed_msg_t *s)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const EVP_MD *md = logto_alg_md(logto_alg_from_name(b->curve->alg));
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, b->pkey) == 1
             && EVP_DigestVerify(ctx, s->der, s->der_len, s->msg, sizeof(s->msg)) == 1;

    EVP_MD_CTX_free(ctx);
    return ok;
}

static int jws_verify(const logto_jws_t *jws, const logto_jwk_t *key)
{
    logto_result_t res;

    return logto_jws_verify(jws, key, &res) == APR_SUCCESS;
}

static void setup(apr_pool_t *p, bench_t *b, const bench_curve_t *c)
{
    const char *json, *why = NULL;
    int i;

    b->curve = c;
    if (!(b->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->group))) {
        die("keygen");
    }
    json = public_jwk(p, c, b->pkey);
    if (logto_jwk_parse(p, json, strlen(json), &b->plain, &why) != APR_SUCCESS
        || logto_jwk_parse(p, json, strlen(json), &b->fast, &why) != APR_SUCCESS) {
        die(why);
    }
    if (logto_jwk_precompute(b->fast) != APR_SUCCESS || !logto_jwk_ec_table(b->fast)) {
        die("no table");
    }
    for (i = 0; i < N_SIGS; i++) {
        logto_jws_t *jws = &b->jws[i];

        sign(c, b->pkey, &b->sigs[i]);
        memset(jws, 0, sizeof(*jws));
        jws->alg = logto_alg_from_name(c->alg);
        jws->signing_input = (const char *)b->sigs[i].msg;
        jws->signing_input_len = MSG_LEN;
        jws->sig = b->sigs[i].raw;
        jws->sig_len = 2 * c->coord;
    }
}

/* Every path says yes to every signature, and no to a corrupted one. */
static void check(bench_t *b)
{
    int i;

    for (i = 0; i < N_SIGS; i++) {
        signed_msg_t *s = &b->sigs[i];
        int ok[4];

        ok[0] = evp_verify(b, s);
        ok[1] = jws_verify(&b->jws[i], b->plain);
        ok[2] = jws_verify(&b->jws[i], b->fast);
        ok[3] =
            logto_ecfast_verify(logto_jwk_ec_table(b->fast), NULL, 0, s->raw, 2 * b->curve->coord)
            != APR_SUCCESS; /* an empty digest is another message */
        if (!ok[0] || !ok[1] || !ok[2] || !ok[3]) {
            die("a valid signature does not verify");
        }
        s->msg[i % MSG_LEN] ^= 1;
        if (evp_verify(b, s) || jws_verify(&b->jws[i], b->plain)
            || jws_verify(&b->jws[i], b->fast)) {
            die("a corrupted signature verifies");
        }
        s->msg[i % MSG_LEN] ^= 1;
    }
}

typedef int (*verify_fn)(bench_t *b, int i);

static int run_evp(bench_t *b, int i)
{
    return evp_verify(b, &b->sigs[i]);
}

static int run_jws_plain(bench_t *b, int i)
{
    return jws_verify(&b->jws[i], b->plain);
}

static int run_jws_fast(bench_t *b, int i)
{
    return jws_verify(&b->jws[i], b->fast);
}

/* Verifications per second over about `seconds`. */
static double rate(bench_t *b, verify_fn fn, double seconds)
{
    apr_time_t start = apr_time_now(), now;
    long done = 0;

    do {
        int i;

        for (i = 0; i < N_SIGS; i++) {
            if (!fn(b, i)) {
                die("verification failed while timing");
            }
        }
        done += N_SIGS;
        now = apr_time_now();
    } while ((double)(now - start) < seconds * 1e6);
    return (double)done * 1e6 / (double)(now - start);
}

/* Milliseconds to build one table (the mean of several). */
static double build_ms(const bench_t *b, apr_size_t *bytes)
{
    const int rounds = 10;
    apr_time_t start = apr_time_now();
    int i;

    for (i = 0; i < rounds; i++) {
        logto_ecfast_key_t *t = NULL;
        const unsigned char *xy = b->fast->ec_xy;

        if (logto_ecfast_key_make(b->curve->crv, xy, xy + b->curve->coord, b->curve->coord, &t)
            != APR_SUCCESS) {
            die("table build failed");
        }
        *bytes = logto_ecfast_key_bytes(t);
        logto_ecfast_key_free(t);
    }
    return (double)(apr_time_now() - start) / 1e3 / rounds;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), by_value);
    return (n % 2) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_load(const char *when)
{
    char line[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");

    if (f) {
        if (!fgets(line, sizeof(line), f)) {
            line[0] = '\0';
        }
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    printf("# load average at %s: %s\n", when, line);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    double seconds = 1.0;
    int rounds = 5, a = 1;
    apr_size_t i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    while (a + 1 < argc && argv[a][0] == '-') {
        if (strcmp(argv[a], "-s") == 0) {
            seconds = strtod(argv[a + 1], NULL);
        }
        else if (strcmp(argv[a], "-r") == 0) {
            rounds = (int)strtol(argv[a + 1], NULL, 10);
        }
        else {
            die("usage: verify_bench [-s SECONDS] [-r ROUNDS] [CURVE...]");
        }
        a += 2;
    }
    if (seconds <= 0 || rounds < 1 || rounds > 99) {
        die("usage: verify_bench [-s SECONDS] [-r ROUNDS] [CURVE...]");
    }
    print_load("start");
    printf("# %d rounds of %.1f s per figure, one thread; medians over the rounds\n", rounds,
           seconds);
    printf("%-6s %14s %14s %14s %8s %10s %10s\n", "curve", "OpenSSL/s", "module EVP/s",
           "module fast/s", "ratio", "build ms", "table KiB");
    for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        const bench_curve_t *c = &curves[i];
        double evp[99], plain[99], fast[99], ratio[99], build;
        apr_size_t bytes = 0;
        bench_t *b;
        int j, wanted = argc <= a;

        for (j = a; j < argc; j++) {
            wanted |= strcmp(argv[j], c->name) == 0;
        }
        if (!wanted) {
            continue;
        }
        if (!logto_ecfast_covers(c->crv)) {
            printf("%-6s not covered by the fast verifier\n", c->name);
            continue;
        }
        b = apr_pcalloc(p, sizeof(*b));
        setup(p, b, c);
        check(b);
        /* the candidates back to back in every round */
        for (j = 0; j < rounds; j++) {
            evp[j] = rate(b, run_evp, seconds);
            plain[j] = rate(b, run_jws_plain, seconds);
            fast[j] = rate(b, run_jws_fast, seconds);
            ratio[j] = fast[j] / evp[j];
        }
        build = build_ms(b, &bytes);
        printf("%-6s %14.0f %14.0f %14.0f %7.2fx %10.2f %10.1f\n", c->name, median(evp, rounds),
               median(plain, rounds), median(fast, rounds), median(ratio, rounds), build,
               (double)bytes / 1024.0);
        fflush(stdout);
        EVP_PKEY_free(b->pkey);
    }
    print_load("end");
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
