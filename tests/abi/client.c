/*
 * ABI test: a client that sees only the installed header and links only the
 * shared library. It walks the public pipeline as far as the core goes and
 * checks the results with its own arithmetic.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sparselut/sparselut.h>

static int failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

typedef struct log_seen {
    int calls;
    splut_status code;
} log_seen;

static void on_log(void *user, splut_log_level level, splut_status code, const char *msg)
{
    log_seen *s = user;
    (void)level;
    (void)msg;
    s->calls++;
    s->code = code;
}

int main(void)
{
    /* the linked library is the one the header describes */
    CHECK(splut_version_number() == SPLUT_VERSION_NUMBER);
    CHECK(strcmp(splut_version_string(), SPLUT_VERSION_STRING) == 0);
    CHECK(splut_status_str(SPLUT_E_NOMEM) != NULL);

    splut_ctx *ctx = NULL;
    CHECK(splut_ctx_create(NULL, &ctx) == SPLUT_OK);
    if (!ctx)
        return 1;
    log_seen seen = {0, SPLUT_OK};
    CHECK(splut_ctx_set_log(ctx, on_log, &seen, SPLUT_LOG_ERROR) == SPLUT_OK);
    CHECK(splut_ctx_set_int(ctx, SPLUT_P_THREADS, 2) == SPLUT_OK);
    CHECK(splut_ctx_set_int(ctx, SPLUT_P_THREADS, -1) == SPLUT_E_OUT_OF_RANGE);
    CHECK(seen.calls == 1 && seen.code == SPLUT_E_OUT_OF_RANGE);
    CHECK(strlen(splut_ctx_last_error(ctx)) > 0);

    /* presets are listed by name */
    size_t n_presets = 0;
    while (splut_preset_name(n_presets))
        n_presets++;
    CHECK(n_presets > 0);

    splut_model *m = NULL;
    CHECK(splut_model_create_preset(ctx, "jsc-m-lite-add2", &m) == SPLUT_OK);
    if (!m)
        return 1;
    uint32_t n_in = splut_model_num_inputs(m), n_out = splut_model_num_outputs(m);
    CHECK(n_in == 16 && n_out == 5);
    CHECK(splut_model_num_layers(m) == 3);

    /* connectivity: sorted, in range */
    size_t k = 0;
    CHECK(splut_model_get_inputs(m, 0, 0, NULL, 0, &k) == SPLUT_OK);
    CHECK(k == 4);
    uint32_t idx[4];
    CHECK(splut_model_get_inputs(m, 0, 0, idx, 4, &k) == SPLUT_OK);
    for (size_t i = 1; i < k; i++)
        CHECK(idx[i - 1] < idx[i] && idx[i] < n_in);

    /* inference: predictions are the argmax of the output codes */
    enum { N = 50 };
    float *x = malloc(sizeof(float) * N * n_in);
    uint16_t *codes = malloc(sizeof(uint16_t) * N * n_out);
    int32_t *pred = malloc(sizeof(int32_t) * N);
    if (!x || !codes || !pred)
        return 1;
    for (size_t i = 0; i < (size_t)N * n_in; i++)
        x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    CHECK(splut_model_predict(m, x, N, pred, codes) == SPLUT_OK);
    for (size_t i = 0; i < N; i++) {
        uint32_t best = 0;
        for (uint32_t o = 1; o < n_out; o++)
            if (codes[i * n_out + o] > codes[i * n_out + best])
                best = o;
        CHECK(pred[i] == (int32_t)best);
        CHECK(pred[i] >= 0 && pred[i] < (int32_t)n_out);
    }
    free(x);
    free(codes);
    free(pred);

    splut_model_destroy(m);
    splut_model_destroy(NULL);
    splut_ctx_unref(ctx);
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
