/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut train`: a thin client of the library's training runs
 * (splut_run, docs/run.md). It parses the options into run parameters,
 * loads the data, prints progress and the result; the epoch loop, the
 * schedule, EMA, distillation, BatchNorm calibration and freezing, keep-best
 * and checkpoints are the library's.
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include "cli.h"
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

/* Connectivity options: given masks, or learned (SPLUT_P_CONN_* when set). */
typedef struct conn_args {
    const char *masks;
    int learned;
    int pretrain; /* keep the connectivity, pre-train a linear network on it */
    uint64_t switch_epoch, candidates, regrow;
    double tau, l1, temperature, swap, plateau, stagger;
    int switch_set, candidates_set, regrow_set, tau_set, l1_set, temperature_set, swap_set;
    int plateau_set, cover, cover_set, explore, explore_set, stagger_set, warm, warm_set;
} conn_args;

typedef struct train_args {
    const char *preset, *arch, *data, *out, *checkpoint, *resume;
    const char *distill; /* teacher model file */
    double distill_alpha, distill_temperature;
    int distill_alpha_set, distill_temperature_set;
    conn_args conn;
    cli_data_opts dopt;
    uint64_t epochs, batch, seed, restart_epochs, threads;
    uint64_t shift; /* --augment-shift: largest random image shift in pixels, 0 = none */
    uint64_t bn_freeze; /* --bn-freeze: the last K epochs train with frozen BatchNorm */
    double lr, wd, ema, beta1, beta2;
    int batch_set, lr_set, wd_set, seed_set, restart_set, beta1_set, beta2_set;
    int json, progress, keep_best, bn_calibrate;
    uint64_t lut_map; /* --lut-map: SPLUT_P_LUT_MAP */
    double groupsum_tau; /* --groupsum-tau: SPLUT_P_GROUPSUM_TAU */
    int lut_map_set, groupsum_tau_set, thermo_fit;
} train_args;

static int max_shift(void)
{
    double mx = 0;
    (void)splut_param_info(SPLUT_P_RUN_SHIFT, NULL, NULL, &mx, NULL); /* a known key */
    return (int)mx;
}

static void train_help(void)
{
    printf(
        "Usage: sparselut train (--preset NAME | --arch SPEC) --data SPEC --epochs N\n"
        "                       --out FILE [options]\n\n"
        "Quantisation-aware training with AdamW and cosine warm restarts, as the\n"
        "reference (per epoch: seeded shuffle, mini-batches, a final batch of fewer than 2\n"
        "samples skipped, train and test accuracy in eval mode).\n\n"
        "Model:\n"
        "  --preset NAME        a built-in configuration (see the list below)\n"
        "  --arch SPEC|@FILE    custom architecture: whitespace-separated tokens,\n"
        "                       first IN:BITS[:relu] (input features, input bits, optional\n"
        "                       unsigned ReLU input quantiser instead of BN+HardTanh), then\n"
        "                       one token per layer KIND:WIDTH:FIELDS with KIND linear, poly,\n"
        "                       add (PolyLUT-Add) or neuralut and FIELDS from\n"
        "                       F<fan-in> b<out bits> D<degree> A<sub-neurons> N<hidden>\n"
        "                       (F and b required; D defaults to 1, A to 2, N to 16), e.g.\n"
        "                       \"784:2 poly:256:F6:D4:b2 poly:100:F6:D4:b2 poly:10:F6:D4:b2\"\n"
        "                       @FILE reads the same tokens from a file ('#' comments)\n"
        "Training:\n"
        "  --epochs N           total epochs (a resumed run continues up to N)\n"
        "  --batch B            batch size (default: the preset's recipe, else 128)\n"
        "  --lr X               learning rate (default: the preset's recipe)\n"
        "  --wd X               weight decay (default: the preset's recipe)\n"
        "  --beta1 X, --beta2 X AdamW moment decays, [0, 1) (default 0.5 and 0.999, the\n"
        "                       reference recipe; a resumed run keeps its checkpoint's)\n"
        "  --restart-epochs R   cosine warm restart every R epochs (default 100;\n"
        "                       0 = constant learning rate)\n"
        "  --seed S             seeds connectivity, initial weights and shuffling (default 1)\n"
        "  --threads T          worker threads, 0 = one per CPU (default 0); results are\n"
        "                       identical for any T\n"
        "Connectivity:\n"
        "  --masks DIR          read the inputs of every neuron from SparseLUT CSV masks\n"
        "                       (mask_layer_<k>.csv) instead of drawing them at random\n"
        "  --connectivity random|learned\n"
        "                       learned: phase 1 trains a surrogate with linear neurons\n"
        "                       over candidate inputs, pruning and regrowing them down to\n"
        "                       A*F per neuron; at the switch epoch the model takes the\n"
        "                       strongest inputs (default random; see docs/connectivity.md)\n"
        "  --pretrain           keep the random (or --masks) connectivity, but train a\n"
        "                       linear network on it until the switch epoch and start\n"
        "                       the model from its function (as --conn-warm 1)\n"
        "  --switch-epoch T     end of phase 1, below --epochs (default: the end of the\n"
        "                       first cosine cycle, R, when --epochs is at least 2R, so\n"
        "                       100 for the 500-epoch recipe; otherwise 20)\n"
        "  --conn-tau X         budget decay time in epochs (default 3)\n"
        "  --conn-l1 X          L1 pressure on connection magnitudes (default 1e-4)\n"
        "  --conn-temperature X exploration noise (default 0)\n"
        "  --conn-regrow gradient|random   how dormant inputs are regrown (default gradient)\n"
        "  --conn-swap X        fraction of active inputs swapped each epoch (default 0.1)\n"
        "  --conn-plateau X     the budget decays to X times A*F and stays there until\n"
        "                       the switch, 1..64 (default 1)\n"
        "  --conn-cover 0|1     1: at the switch every output of a hidden layer gets a\n"
        "                       reader in the next layer (default 0)\n"
        "  --conn-explore random|gradient\n"
        "                       new candidates of capped layers each epoch: random inputs\n"
        "                       or those with the largest dense gradient (default random)\n"
        "  --conn-stagger X     layer l's budget starts decaying l*X epochs late (default 0)\n"
        "  --conn-warm 0|1      1: phase 2 starts from the phase-1 network's function on\n"
        "                       the chosen inputs instead of a fresh initialisation\n"
        "                       (default 1)\n"
        "  --conn-candidates C  candidate inputs per neuron, at most 1024 (default 128)\n");
    printf(
        "Augmentation and distillation:\n"
        "  --augment-shift K    image data: shift every training sample by a random\n"
        "                       offset in [-K, K] pixels on each axis, 0..%d (default 0);\n"
        "                       a pure function of (seed, epoch, position in the epoch)\n"
        "  --distill FILE       train towards a mixture of the labels and the output\n"
        "                       distribution of the trained model FILE (any architecture\n"
        "                       with the same inputs and outputs), evaluated on the same\n"
        "                       (shifted) inputs; phase 1 of learned connectivity trains\n"
        "                       on the labels alone\n"
        "  --distill-alpha A    weight of the teacher's distribution, [0, 1] (default 0.9)\n"
        "  --distill-temperature T  the teacher's logits are divided by T (default 2)\n"
        "Output:\n"
        "  --out FILE           model file written at the end\n"
        "  --keep-best          write the model of the epoch with the best test accuracy\n"
        "                       (the reference's best_accuracy.pth) instead of the last\n"
        "  --checkpoint FILE    after every epoch write everything a resume needs to FILE\n"
        "                       (one file, replaced atomically; docs/checkpoint-format.md)\n"
        "  --resume FILE        continue from a checkpoint; the final model is\n"
        "                       byte-identical to an uninterrupted run (checkpoints keep\n"
        "                       going to FILE unless --checkpoint says otherwise)\n"
        "  --bn-freeze K        train the last K epochs of every cosine cycle (of the run\n"
        "                       with --restart-epochs 0) with frozen BatchNorm: the\n"
        "                       first calibrates the running statistics on the training\n"
        "                       set, then the steps normalise with them and leave them\n"
        "                       fixed, so they train exactly the eval-mode function;\n"
        "                       K <= --restart-epochs (default 0). The\n"
        "                       evaluated model of those epochs keeps these statistics\n"
        "LUT-node models (docs/lut-nodes.md):\n"
        "  --lut-map K          learnable mapping of the first layer: every node input\n"
        "                       chooses among K candidate input bits by trained\n"
        "                       selection weights (at most inputs/F; 0 = random mapping)\n"
        "  --groupsum-tau X     GroupSum softmax temperature (default 1/0.3)\n"
        "  --thermometer uniform|fit\n"
        "                       thermometer thresholds uniform on [0, 1] (default) or at\n"
        "                       quantiles of the training features (distributive)\n"
        "Evaluated and saved model (the optimiser's steps are the same either way):\n"
        "  --bn-calibrate       before each evaluation replace the BatchNorm running\n"
        "                       statistics by their average over the training set\n"
        "                       (train-mode passes in order, as torch's update_bn)\n"
        "  --ema D              evaluate and save an exponential moving average of the\n"
        "                       parameters (decay D per step, e.g. 0.999), calibrated as\n"
        "                       with --bn-calibrate; the average starts with phase 2 of\n"
        "                       learned connectivity\n"
        "  --json               print one JSON object on stdout at the end (test_accuracy,\n"
        "                       train_accuracy, epochs, seconds, train_samples_per_s, history)\n"
        "  --progress           progress on stderr even when it is not a terminal\n\n%s\n"
        "Presets:",
        max_shift(), cli_data_help);
    for (size_t i = 0; splut_preset_name(i); i++)
        printf(" %s", splut_preset_name(i));
    printf("\n");
}

/* ---- arguments ------------------------------------------------------------ */

/* Whether any --conn-* option was given (they tune learned connectivity). */
static int conn_tuned(const conn_args *c)
{
    return c->candidates_set || c->regrow_set || c->tau_set || c->l1_set || c->temperature_set ||
           c->swap_set || c->plateau_set || c->cover_set || c->explore_set || c->stagger_set ||
           c->warm_set;
}

/* An integer option checked against the bounds of parameter @p key (the
 * library's table, cli_param_value). */
static int opt_key_u64(const char *name, const char *v, int r, splut_param key, uint64_t *out)
{
    double d = 0;
    if (r < 0)
        return cli_usage_err("train", "%s needs a value", name);
    if (cli_param_value("train", name, key, v, &d))
        return CLI_EXIT_USAGE;
    *out = (uint64_t)d;
    return 0;
}

/* A number option checked against the bounds of parameter @p key; returns 1
 * consumed, 2 usage error. */
static int opt_key_double(const char *name, const char *v, int r, splut_param key, double *out)
{
    if (r < 0)
        return cli_usage_err("train", "%s needs a value", name);
    return cli_param_value("train", name, key, v, out) ? 2 : 1;
}

/* An option taking 0 or 1 (parameter @p key); returns 1 consumed, 2 usage error. */
static int opt_switch(const char *name, const char *v, int r, splut_param key, int *out,
                      int *set)
{
    uint64_t on = 0;
    if (opt_key_u64(name, v, r, key, &on))
        return 2;
    *out = (int)on;
    *set = 1;
    return 1;
}

/* Options with a value; returns 1 consumed, 0 not matched, 2 usage error. */
static int parse_value_opt(int argc, char **argv, int *i, train_args *a)
{
    const char *v = NULL;
    int r;
    const char **strs[] = {&a->preset, &a->arch, &a->out, &a->checkpoint, &a->resume,
                           &a->distill};
    const char *snames[] = {"--preset", "--arch",   "--out",
                            "--checkpoint", "--resume", "--distill"};
    for (size_t k = 0; k < 6; k++) {
        if ((r = cli_opt(argc, argv, i, snames[k], &v)) != 0) {
            if (r < 0 || !*v)
                return cli_usage_err("train", "%s needs a value", snames[k]);
            *strs[k] = v;
            return 1;
        }
    }
    if ((r = cli_opt(argc, argv, i, "--epochs", &v)) != 0)
        return opt_key_u64("--epochs", v, r, SPLUT_P_RUN_EPOCHS, &a->epochs) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--batch", &v)) != 0) {
        a->batch_set = 1;
        return opt_key_u64("--batch", v, r, SPLUT_P_RUN_BATCH, &a->batch) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--seed", &v)) != 0) {
        a->seed_set = 1;
        return opt_key_u64("--seed", v, r, SPLUT_P_RUN_SEED, &a->seed) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--threads", &v)) != 0)
        return opt_key_u64("--threads", v, r, SPLUT_P_THREADS, &a->threads) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--restart-epochs", &v)) != 0) {
        a->restart_set = 1;
        return opt_key_u64("--restart-epochs", v, r, SPLUT_P_RUN_RESTART_EPOCHS,
                           &a->restart_epochs) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--lr", &v)) != 0) {
        a->lr_set = 1;
        return opt_key_double("--lr", v, r, SPLUT_P_LEARNING_RATE, &a->lr);
    }
    if ((r = cli_opt(argc, argv, i, "--distill-alpha", &v)) != 0) {
        a->distill_alpha_set = 1;
        return opt_key_double("--distill-alpha", v, r, SPLUT_P_RUN_DISTILL_ALPHA,
                              &a->distill_alpha);
    }
    if ((r = cli_opt(argc, argv, i, "--distill-temperature", &v)) != 0) {
        a->distill_temperature_set = 1;
        return opt_key_double("--distill-temperature", v, r, SPLUT_P_RUN_DISTILL_TEMPERATURE,
                              &a->distill_temperature);
    }
    if ((r = cli_opt(argc, argv, i, "--augment-shift", &v)) != 0)
        return opt_key_u64("--augment-shift", v, r, SPLUT_P_RUN_SHIFT, &a->shift) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--bn-freeze", &v)) != 0)
        return opt_key_u64("--bn-freeze", v, r, SPLUT_P_RUN_BN_FREEZE, &a->bn_freeze) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--lut-map", &v)) != 0)
        return (a->lut_map_set = 1,
                opt_key_u64("--lut-map", v, r, SPLUT_P_LUT_MAP, &a->lut_map) ? 2 : 1);
    if ((r = cli_opt(argc, argv, i, "--groupsum-tau", &v)) != 0)
        return (a->groupsum_tau_set = 1,
                opt_key_double("--groupsum-tau", v, r, SPLUT_P_GROUPSUM_TAU, &a->groupsum_tau));
    if ((r = cli_opt(argc, argv, i, "--thermometer", &v)) != 0) {
        if (r > 0 && (!strcmp(v, "uniform") || !strcmp(v, "fit")))
            return (a->thermo_fit = !strcmp(v, "fit"), 1);
        return cli_usage_err("train", "--thermometer is 'uniform' or 'fit'"), 2;
    }
    if ((r = cli_opt(argc, argv, i, "--ema", &v)) != 0)
        return opt_key_double("--ema", v, r, SPLUT_P_RUN_EMA, &a->ema);
    if ((r = cli_opt(argc, argv, i, "--wd", &v)) != 0) {
        a->wd_set = 1;
        return opt_key_double("--wd", v, r, SPLUT_P_WEIGHT_DECAY, &a->wd);
    }
    if ((r = cli_opt(argc, argv, i, "--beta1", &v)) != 0) {
        a->beta1_set = 1;
        return opt_key_double("--beta1", v, r, SPLUT_P_BETA1, &a->beta1);
    }
    if ((r = cli_opt(argc, argv, i, "--beta2", &v)) != 0) {
        a->beta2_set = 1;
        return opt_key_double("--beta2", v, r, SPLUT_P_BETA2, &a->beta2);
    }
    return 0;
}

/* Connectivity options; returns 1 consumed, 0 not matched, 2 usage error. */
static int parse_conn_opt(int argc, char **argv, int *i, conn_args *c)
{
    const char *v = NULL;
    int r;
    if ((r = cli_opt(argc, argv, i, "--masks", &v)) != 0) {
        if (r < 0 || !*v)
            return cli_usage_err("train", "--masks needs a directory"), 2;
        c->masks = v;
        return 1;
    }
    if ((r = cli_opt(argc, argv, i, "--connectivity", &v)) != 0) {
        if (r > 0 && (strcmp(v, "random") == 0 || strcmp(v, "learned") == 0)) {
            c->learned = strcmp(v, "learned") == 0;
            return 1;
        }
        return cli_usage_err("train", "--connectivity is 'random' or 'learned'"), 2;
    }
    if ((r = cli_opt(argc, argv, i, "--conn-regrow", &v)) != 0) {
        c->regrow_set = 1;
        if (r > 0 && (strcmp(v, "gradient") == 0 || strcmp(v, "random") == 0)) {
            c->regrow = strcmp(v, "random") == 0;
            return 1;
        }
        return cli_usage_err("train", "--conn-regrow is 'gradient' or 'random'"), 2;
    }
    if ((r = cli_opt(argc, argv, i, "--switch-epoch", &v)) != 0)
        return (c->switch_set = 1, opt_key_u64("--switch-epoch", v, r, SPLUT_P_SWITCH_EPOCH,
                                               &c->switch_epoch)) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-candidates", &v)) != 0)
        return (c->candidates_set = 1, opt_key_u64("--conn-candidates", v, r,
                                                   SPLUT_P_CONN_CANDIDATES, &c->candidates))
                   ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-tau", &v)) != 0)
        return (c->tau_set = 1, opt_key_double("--conn-tau", v, r, SPLUT_P_CONN_TAU, &c->tau));
    if ((r = cli_opt(argc, argv, i, "--conn-swap", &v)) != 0)
        return (c->swap_set = 1, opt_key_double("--conn-swap", v, r, SPLUT_P_CONN_SWAP, &c->swap));
    if ((r = cli_opt(argc, argv, i, "--conn-stagger", &v)) != 0)
        return (c->stagger_set = 1,
                opt_key_double("--conn-stagger", v, r, SPLUT_P_CONN_STAGGER, &c->stagger));
    if ((r = cli_opt(argc, argv, i, "--conn-plateau", &v)) != 0)
        return (c->plateau_set = 1,
                opt_key_double("--conn-plateau", v, r, SPLUT_P_CONN_PLATEAU, &c->plateau));
    if ((r = cli_opt(argc, argv, i, "--conn-explore", &v)) != 0) {
        if (r > 0 && (!strcmp(v, "random") || !strcmp(v, "gradient"))) {
            c->explore_set = 1;
            c->explore = !strcmp(v, "gradient");
            return 1;
        }
        return cli_usage_err("train", "--conn-explore is 'random' or 'gradient'"), 2;
    }
    if ((r = cli_opt(argc, argv, i, "--conn-cover", &v)) != 0)
        return opt_switch("--conn-cover", v, r, SPLUT_P_CONN_COVER, &c->cover, &c->cover_set);
    if ((r = cli_opt(argc, argv, i, "--conn-warm", &v)) != 0)
        return opt_switch("--conn-warm", v, r, SPLUT_P_CONN_WARM, &c->warm, &c->warm_set);
    if ((r = cli_opt(argc, argv, i, "--conn-l1", &v)) != 0)
        return (c->l1_set = 1, opt_key_double("--conn-l1", v, r, SPLUT_P_CONN_L1, &c->l1));
    if ((r = cli_opt(argc, argv, i, "--conn-temperature", &v)) != 0)
        return (c->temperature_set = 1, opt_key_double("--conn-temperature", v, r,
                                                       SPLUT_P_CONN_TEMPERATURE, &c->temperature));
    return 0;
}

/* Learned connectivity or pre-training: phase 1 trains a linear surrogate. */
static int two_phase(const conn_args *c)
{
    return c->learned || c->pretrain;
}

/* Returns CLI_EXIT_OK, CLI_EXIT_USAGE, or -1 after printing --help. */
static int parse_train(int argc, char **argv, train_args *a)
{
    for (int i = 1; i < argc; i++) {
        int r = cli_data_opt(argc, argv, &i, "train", &a->data, &a->dopt);
        if (r < 0)
            return CLI_EXIT_USAGE;
        if (r > 0)
            continue;
        r = parse_value_opt(argc, argv, &i, a);
        if (r == 0)
            r = parse_conn_opt(argc, argv, &i, &a->conn);
        if (r == 2)
            return CLI_EXIT_USAGE;
        if (r == 1)
            continue;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            train_help();
            return -1;
        } else if (cli_flag(argv, i, "--json")) {
            a->json = 1;
        } else if (cli_flag(argv, i, "--progress")) {
            a->progress = 1;
        } else if (cli_flag(argv, i, "--keep-best")) {
            a->keep_best = 1;
        } else if (cli_flag(argv, i, "--bn-calibrate")) {
            a->bn_calibrate = 1;
        } else if (cli_flag(argv, i, "--pretrain")) {
            a->conn.pretrain = 1;
        } else {
            return cli_usage_err("train", "unknown argument '%s'", argv[i]);
        }
    }
    if (!a->preset == !a->arch)
        return cli_usage_err("train", "give exactly one of --preset NAME and --arch SPEC");
    if (!a->data)
        return cli_usage_err("train", "--data SPEC is required");
    if (!a->epochs)
        return cli_usage_err("train", "--epochs N is required");
    if (!a->out)
        return cli_usage_err("train", "--out FILE is required");
    if (!a->checkpoint && a->resume)
        a->checkpoint = a->resume;
    if (a->conn.masks && a->conn.learned)
        return cli_usage_err("train", "--masks and --connectivity learned exclude each other");
    if (a->conn.pretrain && a->conn.learned)
        return cli_usage_err("train", "--pretrain and --connectivity learned exclude each other "
                                      "(learned runs take --conn-warm 1)");
    if (!a->distill && (a->distill_alpha_set || a->distill_temperature_set))
        return cli_usage_err("train", "--distill-alpha and --distill-temperature need --distill");
    if (!a->conn.learned && conn_tuned(&a->conn))
        return cli_usage_err("train", "the --conn-* options need --connectivity learned");
    if (!two_phase(&a->conn) && a->conn.switch_set)
        return cli_usage_err("train", "--switch-epoch needs --connectivity learned or --pretrain");
    return CLI_EXIT_OK;
}

/* ---- architecture specs --------------------------------------------------- */

/* --arch SPEC or @FILE: the library parses it (splut_model_create_arch, which
 * also skips the '#' comments of a file). */
static int build_arch(splut_ctx *ctx, const char *spec, splut_model **out)
{
    char *text = NULL;
    if (spec[0] == '@') {
        uint8_t *buf;
        size_t len;
        char err[600];
        if (cli_read_file(spec + 1, &buf, &len, err, sizeof err)) {
            cli_err("--arch: %s", err);
            return CLI_EXIT_FAIL;
        }
        text = (char *)buf;
    }
    splut_status st = splut_model_create_arch(ctx, text ? text : spec, out);
    free(text);
    if (st == SPLUT_E_INVALID)
        return cli_usage_err("train", "--arch: %s", splut_ctx_last_error(ctx));
    return st ? cli_lib_err(ctx, st, "--arch") : CLI_EXIT_OK;
}

/* ---- files ---------------------------------------------------------------- */

/* Identity of a file that may not exist yet: the real path of its directory
 * plus its name (NULL on failure). */
static char *file_key(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    const char *name = slash ? slash + 1 : path;
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    char *real = realpath(dir, NULL);
    if (!real)
        return NULL;
    size_t n = strlen(real) + strlen(name) + 2;
    char *key = malloc(n);
    if (key)
        snprintf(key, n, "%s/%s", real, name);
    free(real);
    return key;
}

/* Whether two paths name the same file: the same inode when both exist, else
 * the same directory and name. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char *ka = file_key(a), *kb = file_key(b);
    int same = ka && kb && strcmp(ka, kb) == 0;
    free(ka);
    free(kb);
    return same;
}

/* --out, --checkpoint, --resume and --distill: the outputs must be distinct
 * files, different from the teacher, and --out's directory writable. */
static int check_files(const train_args *a)
{
    if (a->checkpoint && same_file(a->checkpoint, a->out))
        return cli_usage_err("train", "--out and --checkpoint (or --resume) must be different "
                                      "files");
    if (a->distill && same_file(a->distill, a->out))
        return cli_usage_err("train", "--out would overwrite the --distill teacher");
    if (a->distill && a->checkpoint && same_file(a->distill, a->checkpoint))
        return cli_usage_err("train", "--checkpoint would overwrite the --distill teacher");
    char *key = file_key(a->out);
    if (!key) {
        cli_err("cannot write '%s': its directory does not exist", a->out);
        return CLI_EXIT_FAIL;
    }
    char *slash = strrchr(key, '/');
    *slash = '\0';
    int ok = access(*key ? key : "/", W_OK | X_OK) == 0;
    free(key);
    if (!ok) {
        cli_err("cannot write '%s': %s", a->out, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* ---- the run -------------------------------------------------------------- */

typedef struct cli_train {
    train_args *a;
    cli_data *d;
    splut_ctx *ctx;
    splut_model *m, *teacher;
    splut_dataset *train, *test;
    splut_run *run;
    int show;             /* progress on stderr */
    double last_show;     /* clock of the last step line */
    double train_secs;    /* optimiser time of this process */
    uint64_t samples;     /* samples stepped in this process */
} cli_train;

static int make_model(cli_train *r)
{
    splut_status st = splut_ctx_set_int(r->ctx, SPLUT_P_SEED, (int64_t)r->a->seed);
    if (st)
        return cli_lib_err(r->ctx, st, "setting the seed");
    if (!r->a->arch)
        st = splut_model_create_preset(r->ctx, r->a->preset, &r->m);
    if (st == SPLUT_E_UNKNOWN_PRESET) {
        cli_err("unknown preset '%s'; see 'sparselut train --help' for the list", r->a->preset);
        return CLI_EXIT_USAGE;
    }
    int rc = st ? cli_lib_err(r->ctx, st, "creating the preset model") : CLI_EXIT_OK;
    if (!rc && r->a->arch)
        rc = build_arch(r->ctx, r->a->arch, &r->m);
    if (!rc && r->a->conn.masks && (st = splut_model_import_masks(r->m, r->a->conn.masks)))
        rc = cli_lib_err(r->ctx, st, "importing the connectivity masks");
    if (!rc && r->a->lut_map_set && (st = splut_model_set_int(r->m, SPLUT_P_LUT_MAP,
                                                               (int64_t)r->a->lut_map)))
        rc = cli_lib_err(r->ctx, st, "--lut-map");
    if (!rc && r->a->groupsum_tau_set &&
        (st = splut_model_set_double(r->m, SPLUT_P_GROUPSUM_TAU, r->a->groupsum_tau)))
        rc = cli_lib_err(r->ctx, st, "--groupsum-tau");
    return rc;
}

/* --thermometer fit: thresholds at quantiles of the training features (a
 * resumed run takes the checkpoint's instead). */
static int fit_thermometer(cli_train *r)
{
    const splut_dataset *ds = r->d->train.ds;
    splut_status st = splut_model_fit_thermometer(r->m, splut_dataset_features(ds),
                                                  splut_dataset_num_samples(ds));
    return st ? cli_lib_err(r->ctx, st, "--thermometer fit") : CLI_EXIT_OK;
}

/* The run takes the loader's datasets (references: no copy, no second
 * validation pass over the rows). */
static int wrap_data(cli_train *r)
{
    const cli_data *d = r->d;
    r->train = splut_dataset_ref(d->train.ds);
    r->test = d->test.n ? splut_dataset_ref(d->test.ds) : NULL;
    splut_status st = SPLUT_OK;
    if (d->width) /* the loader sets it on IDX data already; a table has none */
        st = splut_dataset_set_image(r->train, d->width, d->height, d->background);
    return st ? cli_lib_err(r->ctx, st, "preparing the dataset") : CLI_EXIT_OK;
}

/* One key; a value the library refuses is a usage error naming the option. */
static int set_key(cli_train *r, const char *opt, splut_param key, int is_int, double v)
{
    splut_status st = is_int ? splut_run_set_int(r->run, key, (int64_t)v)
                             : splut_run_set_double(r->run, key, v);
    if (st == SPLUT_E_OUT_OF_RANGE)
        return cli_usage_err("train", "%s: %s", opt, splut_ctx_last_error(r->ctx));
    return st ? cli_lib_err(r->ctx, st, opt) : CLI_EXIT_OK;
}

typedef struct key_opt {
    const char *opt;
    splut_param key;
    int is_int, given;
    double v;
} key_opt;

static int set_keys(cli_train *r, const key_opt *k, size_t n)
{
    int rc = CLI_EXIT_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (k[i].given)
            rc = set_key(r, k[i].opt, k[i].key, k[i].is_int, k[i].v);
    return rc;
}

static int configure_connectivity(cli_train *r)
{
    const conn_args *c = &r->a->conn;
    if (!c->learned && !c->pretrain)
        return CLI_EXIT_OK;
    const key_opt k[] = {
        {"--connectivity", SPLUT_P_CONNECTIVITY, 1, 1, c->learned ? 1 : 2},
        {"--switch-epoch", SPLUT_P_SWITCH_EPOCH, 1, c->switch_set, (double)c->switch_epoch},
        {"--conn-candidates", SPLUT_P_CONN_CANDIDATES, 1, c->candidates_set,
         (double)c->candidates},
        {"--conn-regrow", SPLUT_P_CONN_REGROW, 1, c->regrow_set, (double)c->regrow},
        {"--conn-tau", SPLUT_P_CONN_TAU, 0, c->tau_set, c->tau},
        {"--conn-l1", SPLUT_P_CONN_L1, 0, c->l1_set, c->l1},
        {"--conn-temperature", SPLUT_P_CONN_TEMPERATURE, 0, c->temperature_set, c->temperature},
        {"--conn-swap", SPLUT_P_CONN_SWAP, 0, c->swap_set, c->swap},
        {"--conn-plateau", SPLUT_P_CONN_PLATEAU, 0, c->plateau_set, c->plateau},
        {"--conn-cover", SPLUT_P_CONN_COVER, 1, c->cover_set, c->cover},
        {"--conn-explore", SPLUT_P_CONN_EXPLORE, 1, c->explore_set, c->explore},
        {"--conn-stagger", SPLUT_P_CONN_STAGGER, 0, c->stagger_set, c->stagger},
        {"--conn-warm", SPLUT_P_CONN_WARM, 1, c->warm_set, c->warm},
    };
    return set_keys(r, k, sizeof k / sizeof k[0]);
}

/* Every option as a run or trainer key (only those given: the rest keep the
 * library's defaults, the preset's recipe among them). */
static int configure(cli_train *r)
{
    const train_args *a = r->a;
    const key_opt k[] = {
        {"--epochs", SPLUT_P_RUN_EPOCHS, 1, 1, (double)a->epochs},
        {"--batch", SPLUT_P_RUN_BATCH, 1, a->batch_set, (double)a->batch},
        {"--seed", SPLUT_P_RUN_SEED, 1, 1, (double)a->seed},
        {"--restart-epochs", SPLUT_P_RUN_RESTART_EPOCHS, 1, 1, (double)a->restart_epochs},
        {"--ema", SPLUT_P_RUN_EMA, 0, 1, a->ema},
        {"--bn-calibrate", SPLUT_P_RUN_BN_CALIBRATE, 1, 1, a->bn_calibrate},
        {"--bn-freeze", SPLUT_P_RUN_BN_FREEZE, 1, 1, (double)a->bn_freeze},
        {"--keep-best", SPLUT_P_RUN_KEEP_BEST, 1, 1, a->keep_best},
        {"--augment-shift", SPLUT_P_RUN_SHIFT, 1, 1, (double)a->shift},
        {"--distill-alpha", SPLUT_P_RUN_DISTILL_ALPHA, 0, a->distill_alpha_set,
         a->distill_alpha},
        {"--distill-temperature", SPLUT_P_RUN_DISTILL_TEMPERATURE, 0,
         a->distill_temperature_set, a->distill_temperature},
        {"--lr", SPLUT_P_LEARNING_RATE, 0, a->lr_set, a->lr},
        {"--wd", SPLUT_P_WEIGHT_DECAY, 0, a->wd_set, a->wd},
        {"--beta1", SPLUT_P_BETA1, 0, a->beta1_set, a->beta1},
        {"--beta2", SPLUT_P_BETA2, 0, a->beta2_set, a->beta2},
    };
    int rc = set_keys(r, k, sizeof k / sizeof k[0]);
    if (!rc)
        rc = configure_connectivity(r);
    splut_status st = SPLUT_OK;
    if (!rc && r->teacher)
        st = splut_run_set_teacher(r->run, r->teacher);
    if (!rc && !st && a->checkpoint)
        st = splut_run_set_checkpoint(r->run, a->checkpoint);
    return rc ? rc : st ? cli_lib_err(r->ctx, st, "configuring the run") : CLI_EXIT_OK;
}

/* The --distill teacher (the run fingerprints it, so a resume needs the same). */
static int load_teacher(cli_train *r)
{
    if (!r->a->distill)
        return CLI_EXIT_OK;
    splut_status st = splut_model_load(r->ctx, r->a->distill, &r->teacher);
    if (st) {
        char what[4300];
        snprintf(what, sizeof what, "loading the teacher model '%s' (--distill)", r->a->distill);
        return cli_lib_err(r->ctx, st, what);
    }
    return CLI_EXIT_OK;
}

static int64_t run_int(const cli_train *r, splut_param key)
{
    int64_t v = 0;
    (void)splut_run_get_int(r->run, key, &v); /* a known key */
    return v;
}

static double run_double(const cli_train *r, splut_param key)
{
    double v = 0;
    (void)splut_run_get_double(r->run, key, &v); /* a known key */
    return v;
}

/* Continue from --resume: the checkpoint's seed, batch, learning rate and
 * schedule unless given (then they must agree); the options that change what
 * is evaluated or trained must agree. */
static int resume(cli_train *r)
{
    train_args *a = r->a;
    /* room for the check below: the library refuses fewer epochs than done */
    splut_run_set_int(r->run, SPLUT_P_RUN_EPOCHS, (int64_t)1 << 20);
    splut_status st = splut_run_resume(r->run, a->resume);
    if (st) {
        char what[4200];
        snprintf(what, sizeof what, "resuming from '%s'", a->resume);
        return cli_lib_err(r->ctx, st, what);
    }
    uint64_t done = (uint64_t)run_int(r, SPLUT_P_RUN_EPOCHS_DONE);
    if ((a->seed_set && a->seed != (uint64_t)run_int(r, SPLUT_P_RUN_SEED)) ||
        (a->batch_set && a->batch != (uint64_t)run_int(r, SPLUT_P_RUN_BATCH)) ||
        (a->lr_set && a->lr != run_double(r, SPLUT_P_LEARNING_RATE)) ||
        (a->restart_set && a->restart_epochs != (uint64_t)run_int(r, SPLUT_P_RUN_RESTART_EPOCHS)))
        return cli_usage_err("train", "--seed/--batch/--lr/--restart-epochs differ from the "
                                      "values recorded in the checkpoint");
    if (a->keep_best && !run_int(r, SPLUT_P_RUN_KEEP_BEST) && done > 0)
        return cli_usage_err("train", "--keep-best: the checkpoint was written without "
                                      "--keep-best, so the best model so far is unknown");
    if (a->ema != run_double(r, SPLUT_P_RUN_EMA) ||
        a->bn_calibrate != run_int(r, SPLUT_P_RUN_BN_CALIBRATE))
        return cli_usage_err("train", "--ema/--bn-calibrate differ from the values recorded "
                                      "in the checkpoint");
    uint64_t shift = (uint64_t)run_int(r, SPLUT_P_RUN_SHIFT);
    if (a->shift != shift)
        return cli_usage_err("train", "--augment-shift %llu differs from the %llu recorded in "
                                      "the checkpoint",
                             (unsigned long long)a->shift, (unsigned long long)shift);
    uint64_t freeze = (uint64_t)run_int(r, SPLUT_P_RUN_BN_FREEZE);
    if (a->bn_freeze != freeze)
        return cli_usage_err("train", "--bn-freeze %llu differs from the %llu recorded in the "
                                      "checkpoint",
                             (unsigned long long)a->bn_freeze, (unsigned long long)freeze);
    if (r->teacher && ((a->distill_alpha_set &&
                        a->distill_alpha != run_double(r, SPLUT_P_RUN_DISTILL_ALPHA)) ||
                       (a->distill_temperature_set &&
                        a->distill_temperature != run_double(r, SPLUT_P_RUN_DISTILL_TEMPERATURE))))
        return cli_usage_err("train", "--distill-alpha/--distill-temperature differ from the "
                                      "values recorded in the checkpoint");
    if (done > a->epochs)
        return cli_usage_err("train", "the checkpoint already has %llu epochs, more than "
                                      "--epochs %llu",
                             (unsigned long long)done, (unsigned long long)a->epochs);
    /* what this command saves: the last model unless --keep-best */
    int rc = set_key(r, "--keep-best", SPLUT_P_RUN_KEEP_BEST, 1, a->keep_best);
    return rc ? rc : set_key(r, "--epochs", SPLUT_P_RUN_EPOCHS, 1, (double)a->epochs);
}

/* A two-phase run must reach phase 2: until the switch the model file would
 * hold the untrained target network while the reported accuracy is the
 * surrogate's. */
static int check_switch_epoch(const cli_train *r)
{
    if (!run_int(r, SPLUT_P_CONNECTIVITY))
        return CLI_EXIT_OK;
    int64_t T = run_int(r, SPLUT_P_SWITCH_EPOCH);
    if ((int64_t)r->a->epochs > T)
        return CLI_EXIT_OK;
    return cli_usage_err("train",
                         "--epochs %llu ends before the target network trains: the switch epoch "
                         "is %lld (--switch-epoch)",
                         (unsigned long long)r->a->epochs, (long long)T);
}

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, cap, "?");
    else if (s >= 3600)
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static void show_step(cli_train *r, const splut_run_progress *p)
{
    double now = cli_now();
    if (!r->show || now - r->last_show < (isatty(2) ? 0.25 : 10.0))
        return;
    r->last_show = now;
    char eta[32];
    fmt_eta(eta, sizeof eta, p->eta_seconds);
    fprintf(stderr, "%sepoch %llu/%llu  batch %llu/%llu  loss %.4f  %.0f samples/s  ETA %s%s",
            isatty(2) ? "\r" : "", (unsigned long long)p->epoch, (unsigned long long)p->epochs,
            (unsigned long long)p->batch, (unsigned long long)p->batches, p->loss,
            p->samples_per_s, eta, isatty(2) ? "   " : "\n");
}

static void show_epoch(cli_train *r, const splut_run_progress *p)
{
    const splut_run_record *e = p->record;
    r->train_secs += p->train_seconds;
    r->samples += p->samples;
    if (!r->show)
        return;
    if (r->a->checkpoint && run_int(r, SPLUT_P_CONNECTIVITY) &&
        (int64_t)e->epoch <= run_int(r, SPLUT_P_SWITCH_EPOCH))
        fprintf(stderr, "note: no checkpoint during phase 1 of learned connectivity\n");
    fprintf(stderr, "%sepoch %llu/%llu  loss %.4f  train_acc %.4f  test_acc %.4f  %.1f s%s\n",
            isatty(2) ? "\r" : "", (unsigned long long)e->epoch, (unsigned long long)p->epochs,
            e->loss, e->train_accuracy, e->test_accuracy, e->seconds,
            isatty(2) ? "          " : "");
}

static int on_progress(void *user, const splut_run_progress *p)
{
    cli_train *r = user;
    if (p->kind == SPLUT_PROGRESS_STEP)
        show_step(r, p);
    else
        show_epoch(r, p);
    return cli_signal_received(); /* nonzero: the run stops after this step */
}

/* ---- report --------------------------------------------------------------- */

static void json_record(cli_json *j, const splut_run_record *e)
{
    cli_json_begin_object(j, NULL);
    cli_json_int(j, "epoch", (int64_t)e->epoch);
    cli_json_double(j, "loss", e->loss);
    cli_json_double(j, "train_accuracy", e->train_accuracy);
    cli_json_double(j, "test_accuracy", e->test_accuracy);
    cli_json_double(j, "seconds", e->seconds);
    if (!isnan(e->live_test_accuracy))
        cli_json_double(j, "live_test_accuracy", e->live_test_accuracy);
    if (e->n_layers) {
        cli_json_begin_array(j, "active_connections");
        for (size_t l = 0; l < e->n_layers; l++)
            cli_json_int(j, NULL, (int64_t)e->active[l]);
        cli_json_end_array(j);
    }
    cli_json_end_object(j);
}

static void report(const cli_train *r, double seconds)
{
    const train_args *a = r->a;
    uint64_t done = (uint64_t)run_int(r, SPLUT_P_RUN_EPOCHS_DONE);
    uint64_t kept = a->keep_best && run_int(r, SPLUT_P_RUN_BEST_EPOCH)
                        ? (uint64_t)run_int(r, SPLUT_P_RUN_BEST_EPOCH)
                        : done;
    splut_run_record fin = SPLUT_RUN_RECORD_INIT;
    int have = kept && splut_run_history(r->run, kept, &fin) == SPLUT_OK;
    double sps = r->train_secs > 0 ? (double)r->samples / r->train_secs : 0;
    if (!a->json) {
        if (have)
            printf("saved %s (%s, epoch %llu): test_accuracy %.4f train_accuracy %.4f, "
                   "%.1f s, %.0f samples/s\n",
                   a->out, a->keep_best ? "best" : "last", (unsigned long long)fin.epoch,
                   fin.test_accuracy, fin.train_accuracy, seconds, sps);
        return;
    }
    cli_json j = {.out = stdout};
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", a->out);
    cli_json_double(&j, "test_accuracy", have ? fin.test_accuracy : NAN);
    cli_json_double(&j, "train_accuracy", have ? fin.train_accuracy : NAN);
    cli_json_int(&j, "epochs", (int64_t)done);
    cli_json_string(&j, "kept", a->keep_best ? "best" : "last");
    cli_json_int(&j, "kept_epoch", have ? (int64_t)fin.epoch : 0);
    cli_json_double(&j, "seconds", seconds);
    cli_json_double(&j, "train_samples_per_s", sps);
    cli_json_int(&j, "batch", run_int(r, SPLUT_P_RUN_BATCH));
    cli_json_double(&j, "lr", run_double(r, SPLUT_P_LEARNING_RATE));
    cli_json_int(&j, "seed", run_int(r, SPLUT_P_RUN_SEED));
    if (a->shift)
        cli_json_int(&j, "augment_shift", (int64_t)a->shift);
    if (a->bn_freeze)
        cli_json_int(&j, "bn_freeze", (int64_t)a->bn_freeze);
    if (r->teacher) {
        cli_json_string(&j, "distill_teacher", a->distill);
        cli_json_double(&j, "distill_alpha", run_double(r, SPLUT_P_RUN_DISTILL_ALPHA));
        cli_json_double(&j, "distill_temperature",
                        run_double(r, SPLUT_P_RUN_DISTILL_TEMPERATURE));
    }
    if (run_int(r, SPLUT_P_CONNECTIVITY))
        cli_json_int(&j, "switch_epoch", run_int(r, SPLUT_P_SWITCH_EPOCH));
    cli_json_int(&j, "train_samples", (int64_t)r->d->train.n);
    cli_json_int(&j, "test_samples", (int64_t)r->d->test.n);
    cli_json_begin_array(&j, "history");
    for (uint64_t e = 1; e <= done; e++) {
        splut_run_record rec = SPLUT_RUN_RECORD_INIT;
        if (splut_run_history(r->run, e, &rec) == SPLUT_OK)
            json_record(&j, &rec);
    }
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static int write_model(cli_train *r)
{
    const splut_model *m = splut_run_final_model(r->run);
    if (!m) {
        cli_err("no epoch was trained: nothing to write to '%s'", r->a->out);
        return CLI_EXIT_FAIL;
    }
    return cli_save_model(m, r->a->out);
}

static int prepare(cli_train *r)
{
    train_args *a = r->a;
    int rc = check_files(a);
    if (!rc) /* before the (slow) data: architecture errors come first */
        rc = make_model(r);
    if (!rc)
        rc = cli_load_data(a->data, &a->dopt, r->d);
    if (!rc)
        rc = cli_check_fit(r->m, r->d);
    if (!rc && a->shift && !r->d->width) {
        cli_err("--augment-shift needs image data (mnist: or fashion:), not '%s'", a->data);
        rc = CLI_EXIT_USAGE;
    }
    if (!rc && a->thermo_fit)
        rc = fit_thermometer(r);
    if (!rc)
        rc = wrap_data(r);
    if (!rc)
        rc = load_teacher(r);
    splut_status st = rc ? SPLUT_OK : splut_run_create(r->m, r->train, r->test, &r->run);
    if (st)
        rc = cli_lib_err(r->ctx, st, "creating the training run");
    if (!rc)
        rc = configure(r);
    if (!rc && a->resume)
        rc = resume(r);
    if (!rc)
        rc = check_switch_epoch(r);
    if (!rc && a->restart_epochs && a->bn_freeze > a->restart_epochs)
        rc = cli_usage_err("train", "--bn-freeze %llu is longer than a cosine cycle "
                                    "(--restart-epochs %llu)",
                           (unsigned long long)a->bn_freeze,
                           (unsigned long long)a->restart_epochs);
    return rc;
}

/* SIGINT/SIGTERM during training: --out is not written; the last checkpoint
 * (written whole after its epoch) is where --resume continues. */
static int interrupted(const cli_train *r)
{
    if (r->show)
        fputc('\n', stderr);
    uint64_t done = (uint64_t)run_int(r, SPLUT_P_RUN_EPOCHS_DONE);
    int rc = cli_interrupted();
    if (r->a->checkpoint && done && access(r->a->checkpoint, F_OK) == 0)
        cli_err("'%s' not written; continue with --resume %s", r->a->out, r->a->checkpoint);
    else
        cli_err("'%s' not written", r->a->out);
    return rc;
}

static int train_run(cli_train *r)
{
    int rc = prepare(r);
    if (rc)
        return rc;
    splut_run_set_progress(r->run, on_progress, r);
    double t0 = cli_now();
    splut_status st = cli_signal_received() ? SPLUT_E_CANCELLED : splut_run_fit(r->run);
    if (st == SPLUT_E_CANCELLED && cli_signal_received())
        return interrupted(r);
    if (st)
        return cli_lib_err(r->ctx, st, "training");
    rc = write_model(r);
    if (!rc)
        report(r, cli_now() - t0);
    return rc;
}

int cli_cmd_train(int argc, char **argv)
{
    train_args a = {.seed = 1, .restart_epochs = 100};
    cli_data_opts_init(&a.dopt);
    int rc = parse_train(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    cli_data d = {0};
    cli_train r = {.a = &a, .d = &d};
    r.show = a.progress || isatty(2);
    r.ctx = cli_ctx_new((int64_t)a.threads);
    if (!r.ctx)
        return CLI_EXIT_FAIL;
    rc = train_run(&r);
    splut_run_destroy(r.run);
    splut_dataset_destroy(r.train);
    splut_dataset_destroy(r.test);
    splut_model_destroy(r.teacher);
    splut_model_destroy(r.m);
    splut_ctx_unref(r.ctx);
    cli_data_free(&d);
    return rc;
}
