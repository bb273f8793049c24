/*
 * libsparselut — experimental, research-stage interface.
 *
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * @file sparselut-experimental.h
 * @brief Research knobs outside the stability promise (the zstd
 *        ZSTD_STATIC_LINKING_ONLY model).
 *
 * Include this header (or define SPLUT_ENABLE_EXPERIMENTAL before including
 * sparselut.h) to use them. What is declared here may change meaning, bounds
 * or disappear in any minor release; splut_param_describe() reports these keys
 * with SPLUT_PARAM_EXPERIMENTAL. Their numbers are never reused for anything
 * else, so files and programs that hold them stay unambiguous. Promoting a key
 * to sparselut.h makes it stable.
 */
#ifndef SPARSELUT_EXPERIMENTAL_H
#define SPARSELUT_EXPERIMENTAL_H

#include "sparselut.h"

/**
 * @defgroup experimental Experimental parameters
 * @brief Trainer keys still under research (learned-connectivity tuning, frozen BatchNorm).
 *
 * They are ::splut_param values outside the enum, set with
 * splut_trainer_set_int() / splut_trainer_set_double() like any other key.
 * None is saved in trainer files.
 * @{
 */
/** double [0,1]: fraction of active connections swapped for regrown ones at the
 *  end of each epoch, default 0.1. */
#define SPLUT_P_CONN_SWAP ((splut_param)219)
/** double [1,64]: the phase-1 budget decays to this multiple of A·F (capped at
 *  the candidates) and stays there until the switch, default 1. */
#define SPLUT_P_CONN_PLATEAU ((splut_param)220)
/** int 0/1: 1 = at the switch, give every output of a hidden layer a reader in
 *  the next layer, default 0. */
#define SPLUT_P_CONN_COVER ((splut_param)221)
/** int: ::splut_conn_explore, new candidates of capped layers each epoch,
 *  default SPLUT_EXPLORE_RANDOM. */
#define SPLUT_P_CONN_EXPLORE ((splut_param)222)
/** double [0,1e6]: layer l's budget starts decaying l·stagger epochs late, default 0. */
#define SPLUT_P_CONN_STAGGER ((splut_param)223)
/** int 0/1: 1 = phase 2 starts from the surrogate's function (its weights on the
 *  chosen inputs as the degree-1 terms, its BatchNorms and scales), 0 = from the
 *  target's initialisation; default 1. */
#define SPLUT_P_CONN_WARM ((splut_param)224)
/** int 0/1: 1 = training steps normalise every BatchNorm with its running
 *  statistics and leave them unchanged, so the optimiser trains exactly the
 *  eval-mode function (calibrate first with splut_trainer_calibrate_bn(), which
 *  always uses batch statistics); 0 = batch statistics, the reference; default 0.
 *  Ignored by phase 1 of learned connectivity. */
#define SPLUT_P_BN_FROZEN ((splut_param)230)

/** Values of SPLUT_P_CONN_EXPLORE. */
typedef enum splut_conn_explore {
    SPLUT_EXPLORE_RANDOM = 0,  /**< random inputs */
    SPLUT_EXPLORE_GRADIENT = 1 /**< largest dense |∂L/∂w| on the current batch */
} splut_conn_explore;
/** @} */

#endif /* SPARSELUT_EXPERIMENTAL_H */
