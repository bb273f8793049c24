/*
 * Install test client: built only with `pkg-config --cflags --libs sparselut`
 * against a temporary installation. Enumerates a preset's tables and checks
 * LUT-mode inference against the model's own forward pass.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include <sparselut/sparselut.h>

enum { N = 64 };

int main(void)
{
    static uint16_t in[N * 16], by_model[N * 5], by_tables[N * 5];
    splut_ctx *ctx = NULL;
    splut_model *m = NULL;
    splut_tables *t = NULL;
    int ok = 0;

    if (splut_version_number() != SPLUT_VERSION_NUMBER) {
        fprintf(stderr, "header %s but library %s\n", SPLUT_VERSION_STRING,
                splut_version_string());
        return 1;
    }
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        in[i] = (uint16_t)(((i * 2654435761u) >> 13) & 7u); /* 3-bit codes */
    if (splut_ctx_create(NULL, &ctx) == SPLUT_OK &&
        splut_model_create_preset(ctx, "jsc-m-lite-add2", &m) == SPLUT_OK &&
        splut_tables_create(m, &t) == SPLUT_OK &&
        splut_model_forward_codes(m, in, N, by_model) == SPLUT_OK &&
        splut_tables_forward(t, in, N, by_tables) == SPLUT_OK)
        ok = memcmp(by_model, by_tables, sizeof(by_model)) == 0;
    if (!ok)
        fprintf(stderr, "failed: %s\n", ctx ? splut_ctx_last_error(ctx) : "no context");
    else
        printf("ok: installed libsparselut %s, tables match the model\n", splut_version_string());
    splut_tables_destroy(t);
    splut_model_destroy(m);
    splut_ctx_unref(ctx);
    return ok ? 0 : 1;
}
