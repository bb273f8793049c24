/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * Knowledge distillation for `sparselut train --distill TEACHER`: every
 * training batch is trained towards a mixture of the labels and the output
 * distribution of a trained model (any architecture with the same inputs and
 * outputs), evaluated in eval mode on exactly the inputs the student sees.
 */
#ifndef SPLUT_TOOLS_TRAIN_DISTILL_H
#define SPLUT_TOOLS_TRAIN_DISTILL_H

#include "cli.h"

typedef struct cli_teacher {
    splut_model *m;       /* NULL: no distillation */
    double alpha;         /* weight of the teacher's distribution in the target */
    double temperature;   /* the teacher's logits are divided by it */
    uint64_t fingerprint; /* FNV-1a of the teacher file: resume must see the same */
    uint16_t *codes;      /* batch buffers, sized for @c cap samples */
    float *values, *targets;
    size_t cap;
} cli_teacher;

/* Loads the teacher from @p path and checks it fits @p student (same inputs and outputs). */
int cli_teacher_load(cli_teacher *t, splut_ctx *ctx, const char *path,
                     const splut_model *student, size_t batch);
/* Fills t->targets (@p n rows of outputs probabilities) for the batch (@p x, @p y):
 * alpha * softmax(teacher logits / temperature) + (1 - alpha) * one-hot(y);
 * for one output the same with the sigmoid. */
int cli_teacher_targets(cli_teacher *t, const float *x, const int32_t *y, size_t n);
void cli_teacher_free(cli_teacher *t);

#endif
