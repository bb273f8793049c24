/*
 * Install test client of libsparselut-data: built with nothing but
 * `pkg-config --cflags --libs sparselut-data`; loads the dataset named on the
 * command line and checks that the rows add up.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>

#include <sparselut/sparselut-data.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    splut_ctx *ctx = NULL;
    if (splut_ctx_create(NULL, &ctx) != SPLUT_OK)
        return 1;
    splut_dataset *train = NULL, *test = NULL;
    splut_data_opts opts = SPLUT_DATA_OPTS_INIT;
    splut_status st = splut_data_load(ctx, argv[1], &opts, &train, &test);
    int ok = st == SPLUT_OK && splut_dataset_num_samples(train) == 4 &&
             splut_dataset_num_samples(test) == 1 && splut_dataset_num_features(train) == 2;
    if (!ok)
        fprintf(stderr, "load failed: %s\n", splut_ctx_last_error(ctx));
    splut_dataset_destroy(train);
    splut_dataset_destroy(test);
    splut_ctx_unref(ctx);
    return ok ? 0 : 1;
}
