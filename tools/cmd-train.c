/*
 * Copyright 2026 The libsparselut authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * `sparselut train`: the reference training loop (MODELS.md §6) around the
 * public trainer API: seeded per-epoch shuffling, mini-batches, cosine warm
 * restarts, per-epoch train/test accuracy, checkpoints with exact resume.
 *
 * Resume is exact because everything an epoch depends on is either in the
 * trainer state (splut_trainer_save: parameters, BN statistics, moments,
 * step) or derived from (seed, epoch): the shuffle of epoch e is a pure
 * function of both. The run state (epoch count, history, best accuracy) is a
 * small text sidecar next to the checkpoint, CHECKPOINT.run.
 */
#include "augment.h"
#include "cli.h"
#include "train-average.h"
#include "train-distill.h"
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_EPOCHS (1u << 20)
#define RUN_MAGIC "sparselut-run 1"

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
} train_args;

/* One finished epoch (also the lines of the run sidecar). */
#define CURVE_LAYERS 16

typedef struct epoch_rec {
    uint64_t epoch; /* 1-based */
    double loss, train_acc, test_acc, seconds;
    double live_test_acc; /* --ema/--bn-calibrate: the live model's (NaN otherwise) */
    /* active connections per layer at the end of the epoch (connectivity
     * curve); n_layers 0 when unknown (epochs restored from a run state) */
    uint64_t active[CURVE_LAYERS];
    size_t n_layers;
} epoch_rec;

typedef struct run_state {
    uint64_t seed, batch, restart_epochs, done, step;
    uint64_t data_hash; /* fingerprint of the dataset: resume must see the same data */
    int keep_best;      /* the best model is tracked (FILE.best) */
    double lr;
    double ema;         /* EMA decay of the evaluated model, 0 = none */
    int bn_calibrate;   /* evaluated models get calibrated BatchNorm statistics */
    uint64_t shift;     /* --augment-shift */
    uint64_t bn_freeze; /* --bn-freeze */
    uint64_t teacher;   /* --distill: fingerprint of the teacher file, 0 = none */
    double teacher_alpha, teacher_temperature;
    int ema_started;    /* FILE.ema holds the average */
    epoch_rec *hist;
    size_t nhist;
    double best_acc;
    uint64_t best_epoch; /* 0 = none yet */
} run_state;

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
        "  --checkpoint FILE    after every epoch save the trainer state to FILE and the\n"
        "                       run state to FILE.run (FILE.best too with --keep-best)\n"
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
        "Evaluated and saved model (the optimiser's steps are the same either way):\n"
        "  --bn-calibrate       before each evaluation replace the BatchNorm running\n"
        "                       statistics by their average over the training set\n"
        "                       (train-mode passes in order, as torch's update_bn)\n"
        "  --ema D              evaluate and save an exponential moving average of the\n"
        "                       parameters (decay D per step, e.g. 0.999), calibrated as\n"
        "                       with --bn-calibrate; the average starts with phase 2 of\n"
        "                       learned connectivity (checkpoints add FILE.ema)\n"
        "  --json               print one JSON object on stdout at the end (test_accuracy,\n"
        "                       train_accuracy, epochs, seconds, train_samples_per_s, history)\n"
        "  --progress           progress on stderr even when it is not a terminal\n\n%s\n"
        "Presets:",
        CLI_MAX_SHIFT, cli_data_help);
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

static int opt_u64(const char *name, const char *v, int r, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    if (r < 0 || cli_parse_u64(v, min, max, out))
        return cli_usage_err("train", "%s needs an integer in [%llu, %llu], got '%s'", name,
                             (unsigned long long)min, (unsigned long long)max,
                             r < 0 ? "" : v);
    return 0;
}

static int opt_double(const char *name, const char *v, int r, double min, double max,
                      double *out)
{
    if (r < 0 || cli_parse_double(v, out) || *out < min || *out > max)
        return cli_usage_err("train", "%s needs a number in [%g, %g], got '%s'", name, min, max,
                             r < 0 ? "" : v);
    return 0;
}

/* An option taking 0 or 1; returns 1 consumed, 2 usage error (the parsers' codes). */
static int opt_switch(const char *name, const char *v, int r, int *out, int *set)
{
    uint64_t on = 0;
    if (opt_u64(name, v, r, 0, 1, &on))
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
        return opt_u64("--epochs", v, r, 1, MAX_EPOCHS, &a->epochs) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--batch", &v)) != 0) {
        a->batch_set = 1;
        return opt_u64("--batch", v, r, 2, 1u << 20, &a->batch) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--seed", &v)) != 0) {
        a->seed_set = 1;
        return opt_u64("--seed", v, r, 0, (uint64_t)1 << 53, &a->seed) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--threads", &v)) != 0)
        return opt_u64("--threads", v, r, 0, 256, &a->threads) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--restart-epochs", &v)) != 0) {
        a->restart_set = 1;
        return opt_u64("--restart-epochs", v, r, 0, MAX_EPOCHS, &a->restart_epochs) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--lr", &v)) != 0) {
        a->lr_set = 1;
        if (opt_double("--lr", v, r, 0, 10, &a->lr))
            return 2;
        return a->lr > 0 ? 1 : (cli_usage_err("train", "--lr must be above 0"), 2);
    }
    if ((r = cli_opt(argc, argv, i, "--distill-alpha", &v)) != 0) {
        a->distill_alpha_set = 1;
        return opt_double("--distill-alpha", v, r, 0, 1, &a->distill_alpha) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--distill-temperature", &v)) != 0) {
        a->distill_temperature_set = 1;
        if (opt_double("--distill-temperature", v, r, 0, 100, &a->distill_temperature))
            return 2;
        return a->distill_temperature > 0
                   ? 1
                   : (cli_usage_err("train", "--distill-temperature must be above 0"), 2);
    }
    if ((r = cli_opt(argc, argv, i, "--augment-shift", &v)) != 0)
        return opt_u64("--augment-shift", v, r, 0, CLI_MAX_SHIFT, &a->shift) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--bn-freeze", &v)) != 0)
        return opt_u64("--bn-freeze", v, r, 0, UINT32_MAX, &a->bn_freeze) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--ema", &v)) != 0)
        return opt_double("--ema", v, r, 0, 0.999999, &a->ema) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--wd", &v)) != 0) {
        a->wd_set = 1;
        return opt_double("--wd", v, r, 0, 1, &a->wd) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--beta1", &v)) != 0) {
        a->beta1_set = 1;
        return opt_double("--beta1", v, r, 0, 0.999999, &a->beta1) ? 2 : 1;
    }
    if ((r = cli_opt(argc, argv, i, "--beta2", &v)) != 0) {
        a->beta2_set = 1;
        return opt_double("--beta2", v, r, 0, 0.999999, &a->beta2) ? 2 : 1;
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
        return (c->switch_set = 1, opt_u64("--switch-epoch", v, r, 0, MAX_EPOCHS,
                                           &c->switch_epoch)) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-candidates", &v)) != 0)
        return (c->candidates_set = 1, opt_u64("--conn-candidates", v, r, 1, 1024,
                                               &c->candidates)) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-tau", &v)) != 0)
        return (c->tau_set = 1, opt_double("--conn-tau", v, r, 1e-6, 1e6, &c->tau)) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-swap", &v)) != 0)
        return (c->swap_set = 1, opt_double("--conn-swap", v, r, 0, 1, &c->swap)) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-stagger", &v)) != 0)
        return (c->stagger_set = 1, opt_double("--conn-stagger", v, r, 0, 1e6, &c->stagger)) ? 2
                                                                                         : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-plateau", &v)) != 0)
        return (c->plateau_set = 1, opt_double("--conn-plateau", v, r, 1, 64, &c->plateau)) ? 2
                                                                                         : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-explore", &v)) != 0) {
        if (r > 0 && (!strcmp(v, "random") || !strcmp(v, "gradient"))) {
            c->explore_set = 1;
            c->explore = !strcmp(v, "gradient");
            return 1;
        }
        return cli_usage_err("train", "--conn-explore is 'random' or 'gradient'"), 2;
    }
    if ((r = cli_opt(argc, argv, i, "--conn-cover", &v)) != 0)
        return opt_switch("--conn-cover", v, r, &c->cover, &c->cover_set);
    if ((r = cli_opt(argc, argv, i, "--conn-warm", &v)) != 0)
        return opt_switch("--conn-warm", v, r, &c->warm, &c->warm_set);
    if ((r = cli_opt(argc, argv, i, "--conn-l1", &v)) != 0)
        return (c->l1_set = 1, opt_double("--conn-l1", v, r, 0, 1, &c->l1)) ? 2 : 1;
    if ((r = cli_opt(argc, argv, i, "--conn-temperature", &v)) != 0)
        return (c->temperature_set = 1,
                opt_double("--conn-temperature", v, r, 0, 1, &c->temperature)) ? 2 : 1;
    return 0;
}

/* The switch epoch when --switch-epoch is not given. A long phase 1 gives
 * better masks (docs/connectivity.md: switching at the end of the first cosine
 * cycle gained 0.4 points over epoch 20), but phase 2 needs time of its own:
 * the end of the first cycle when at least one more full cycle follows, else
 * the library's default. */
static uint64_t default_switch_epoch(const train_args *a)
{
    if (a->restart_epochs > 0 && a->epochs / 2 >= a->restart_epochs)
        return a->restart_epochs;
    double dflt = 0;
    (void)splut_param_info(SPLUT_P_SWITCH_EPOCH, NULL, NULL, NULL, &dflt); /* a known key */
    return (uint64_t)dflt;
}

/* Learned connectivity or pre-training: phase 1 trains a linear surrogate. */
static int two_phase(const conn_args *c)
{
    return c->learned || c->pretrain;
}

/* A two-phase run must reach phase 2: until the switch the model file would
 * hold the untrained target network while the reported accuracy is the
 * surrogate's. */
static int check_switch_epoch(const train_args *a)
{
    if (!two_phase(&a->conn))
        return CLI_EXIT_OK;
    uint64_t T = a->conn.switch_epoch;
    if (a->epochs > T)
        return CLI_EXIT_OK;
    return cli_usage_err("train",
                         "--epochs %llu ends before the target network trains: the switch epoch "
                         "is %llu (--switch-epoch)",
                         (unsigned long long)a->epochs, (unsigned long long)T);
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
    if (a->checkpoint && strcmp(a->checkpoint, a->out) == 0)
        return cli_usage_err("train", "--out and --checkpoint must be different files");
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
    if (two_phase(&a->conn) && !a->conn.switch_set) {
        a->conn.switch_epoch = default_switch_epoch(a);
        a->conn.switch_set = 1;
    }
    return check_switch_epoch(a);
}

/* ---- architecture specs --------------------------------------------------- */

static int arch_kind(const char *s, size_t n, int32_t *kind)
{
    static const struct {
        const char *name;
        int32_t kind;
    } kinds[] = {{"linear", SPLUT_NEURON_LINEAR},   {"poly", SPLUT_NEURON_POLY},
                 {"add", SPLUT_NEURON_POLY_ADD},    {"poly-add", SPLUT_NEURON_POLY_ADD},
                 {"neuralut", SPLUT_NEURON_NEURALUT}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strlen(kinds[k].name) == n && strncmp(kinds[k].name, s, n) == 0) {
            *kind = kinds[k].kind;
            return 0;
        }
    return -1;
}

/* Parse "KIND:WIDTH:F6:D4:b2" into @p d; messages name the token. */
static int arch_layer(const char *tok, splut_layer_desc *d)
{
    const char *colon = strchr(tok, ':');
    if (!colon || arch_kind(tok, (size_t)(colon - tok), &d->kind))
        return cli_usage_err("train", "--arch: layer '%s' must start with linear:, poly:, add: "
                                      "or neuralut:", tok);
    char *end;
    errno = 0;
    unsigned long w = strtoul(colon + 1, &end, 10);
    if (errno || w == 0 || w > UINT32_MAX || (*end && *end != ':'))
        return cli_usage_err("train", "--arch: layer '%s' needs a width >= 1", tok);
    d->width = (uint32_t)w;
    d->degree = d->kind == SPLUT_NEURON_NEURALUT ? 0 : 1; /* NeuraLUT has no degree */
    d->sub_neurons = d->kind == SPLUT_NEURON_POLY_ADD ? 2 : 0;
    d->hidden = d->kind == SPLUT_NEURON_NEURALUT ? 16 : 0;
    while (*end == ':') {
        char key = end[1];
        const char *num = end + 2;
        errno = 0;
        unsigned long v = strtoul(num, &end, 10);
        if (errno || end == num || (*end && *end != ':') || v > 1u << 20)
            return cli_usage_err("train", "--arch: bad field in layer '%s'", tok);
        switch (key) {
        case 'F': d->fan_in = (uint32_t)v; break;
        case 'b': d->out_bits = (uint32_t)v; break;
        case 'D': d->degree = (uint32_t)v; break;
        case 'A': d->sub_neurons = (uint32_t)v; break;
        case 'N': d->hidden = (uint32_t)v; break;
        default:
            return cli_usage_err("train", "--arch: unknown field '%c' in layer '%s' "
                                          "(F, b, D, A, N)", key, tok);
        }
    }
    if (!d->fan_in || !d->out_bits)
        return cli_usage_err("train", "--arch: layer '%s' needs F<fan-in> and b<bits>", tok);
    return 0;
}

/* Read @FILE into a malloc'ed string without comments. */
static char *arch_text(const char *spec)
{
    if (spec[0] != '@') {
        char *s = malloc(strlen(spec) + 1);
        if (s)
            strcpy(s, spec);
        return s;
    }
    uint8_t *buf;
    size_t len;
    char err[600];
    if (cli_read_file(spec + 1, &buf, &len, err, sizeof err)) {
        cli_err("--arch: %s", err);
        return NULL;
    }
    char *s = (char *)buf;
    for (char *p = s; *p; p++) /* drop '#' comments up to the end of line */
        if (*p == '#')
            while (*p && *p != '\n')
                *p++ = ' ';
    return s;
}

static int build_arch(splut_ctx *ctx, const char *spec, splut_model **out)
{
    char *text = arch_text(spec);
    if (!text)
        return spec[0] == '@' ? CLI_EXIT_FAIL : (cli_err("out of memory"), CLI_EXIT_FAIL);
    int rc = CLI_EXIT_OK;
    splut_model *m = NULL;
    const char *ws = " \t\r\n";
    char *save = NULL, *tok = strtok_r(text, ws, &save);
    unsigned long in = 0, bits = 0;
    char mode[8] = "";
    int nread = tok ? sscanf(tok, "%lu:%lu:%7s", &in, &bits, mode) : 0;
    if (nread < 2 || in == 0 || in > UINT32_MAX || bits == 0 || bits > 8 ||
        (nread == 3 && strcmp(mode, "relu") != 0)) {
        rc = cli_usage_err("train", "--arch must start with IN:BITS[:relu], got '%s'",
                           tok ? tok : "");
        goto done;
    }
    splut_status st = splut_model_create(ctx, (uint32_t)in, (uint32_t)bits, &m);
    if (!st && nread == 3)
        st = splut_model_set_int(m, SPLUT_P_INPUT_MODE, SPLUT_INPUT_RELU);
    if (st) {
        rc = cli_lib_err(ctx, st, "--arch: creating the model");
        goto done;
    }
    size_t layers = 0;
    while ((tok = strtok_r(NULL, ws, &save)) != NULL) {
        splut_layer_desc d = SPLUT_LAYER_DESC_INIT;
        if ((rc = arch_layer(tok, &d)) != 0)
            goto done;
        st = splut_model_add_layer(m, &d);
        if (st) {
            char what[300];
            snprintf(what, sizeof what, "--arch: layer %zu '%s'", layers, tok);
            rc = cli_lib_err(ctx, st, what);
            goto done;
        }
        layers++;
    }
    if (!layers) {
        rc = cli_usage_err("train", "--arch has no layers");
        goto done;
    }
    st = splut_model_build(m);
    if (st)
        rc = cli_lib_err(ctx, st, "--arch: building the model");
done:
    free(text);
    if (rc)
        splut_model_destroy(m);
    else
        *out = m;
    return rc;
}

/* ---- run state sidecar ---------------------------------------------------- */

static int run_push(run_state *rs, const epoch_rec *e)
{
    epoch_rec *h = realloc(rs->hist, (rs->nhist + 1) * sizeof *h);
    if (!h)
        return -1;
    rs->hist = h;
    rs->hist[rs->nhist++] = *e;
    return 0;
}

static int run_save(const char *ckpt, const run_state *rs)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s.run", ckpt);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        cli_err("cannot write '%s': %s", tmp, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    fprintf(f, "%s\nseed %llu\nbatch %llu\nlr %.17g\nrestart_epochs %llu\nepochs_done %llu\n"
               "step %llu\ndata %016llx\nkeep_best %d\nbest %.17g %llu\n",
            RUN_MAGIC, (unsigned long long)rs->seed, (unsigned long long)rs->batch, rs->lr,
            (unsigned long long)rs->restart_epochs, (unsigned long long)rs->done,
            (unsigned long long)rs->step, (unsigned long long)rs->data_hash, rs->keep_best,
            rs->best_acc, (unsigned long long)rs->best_epoch);
    if (rs->ema > 0 || rs->bn_calibrate)
        fprintf(f, "average %.17g %d %d\n", rs->ema, rs->bn_calibrate, rs->ema_started);
    if (rs->shift)
        fprintf(f, "shift %llu\n", (unsigned long long)rs->shift);
    if (rs->teacher)
        fprintf(f, "teacher %016llx %.17g %.17g\n", (unsigned long long)rs->teacher,
                rs->teacher_alpha, rs->teacher_temperature);
    if (rs->bn_freeze)
        fprintf(f, "freeze %llu\n", (unsigned long long)rs->bn_freeze);
    for (size_t i = 0; i < rs->nhist; i++)
        fprintf(f, "epoch %llu %.17g %.17g %.17g %.17g\n", (unsigned long long)rs->hist[i].epoch,
                rs->hist[i].loss, rs->hist[i].train_acc, rs->hist[i].test_acc,
                rs->hist[i].seconds);
    int bad = ferror(f);
    if (fclose(f) || bad || rename(tmp, path)) {
        cli_err("cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int run_load(const char *ckpt, run_state *rs)
{
    char path[4200], line[512];
    snprintf(path, sizeof path, "%s.run", ckpt);
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_err("cannot open run state '%s' (written next to every checkpoint): %s", path,
                strerror(errno));
        return CLI_EXIT_FAIL;
    }
    unsigned long long seed = 0, batch = 0, restart = 0, done = 0, step = 0, best_epoch = 0,
                       data_hash = 0;
    int ok = fgets(line, sizeof line, f) && strncmp(line, RUN_MAGIC, strlen(RUN_MAGIC)) == 0;
    ok = ok && fscanf(f, " seed %llu batch %llu lr %lf restart_epochs %llu epochs_done %llu "
                         "step %llu data %llx keep_best %d best %lf %llu",
                      &seed, &batch, &rs->lr, &restart, &done, &step, &data_hash,
                      &rs->keep_best, &rs->best_acc, &best_epoch) == 10;
    rs->seed = seed;
    rs->batch = batch;
    rs->restart_epochs = restart;
    rs->done = done;
    rs->step = step;
    rs->best_epoch = best_epoch;
    rs->data_hash = data_hash;
    /* optional (absent: no average, no calibration); a mismatch leaves "epoch" unread */
    int na = ok ? fscanf(f, " average %lf %d %d", &rs->ema, &rs->bn_calibrate,
                         &rs->ema_started)
                : 0;
    if (na > 0 && na < 3)
        ok = 0;
    /* optional; line names share no first letter (average, shift, teacher, freeze, epoch),
     * since a failed literal match consumes the letters it matched */
    unsigned long long shift = 0;
    if (ok && fscanf(f, " shift %llu", &shift) == 1 && shift > CLI_MAX_SHIFT)
        ok = 0;
    rs->shift = shift;
    unsigned long long teacher = 0;
    int nt = ok ? fscanf(f, " teacher %llx %lf %lf", &teacher, &rs->teacher_alpha,
                         &rs->teacher_temperature)
                : 0;
    if (nt > 0 && nt < 3)
        ok = 0;
    rs->teacher = teacher;
    unsigned long long freeze = 0;
    if (ok && fscanf(f, " freeze %llu", &freeze) == 1 && freeze > UINT32_MAX)
        ok = 0;
    rs->bn_freeze = freeze;
    while (ok) {
        epoch_rec e = {.live_test_acc = NAN}; /* no connectivity curve for restored epochs */
        unsigned long long ep;
        int n = fscanf(f, " epoch %llu %lf %lf %lf %lf", &ep, &e.loss, &e.train_acc,
                       &e.test_acc, &e.seconds);
        if (n == EOF)
            break;
        e.epoch = ep;
        ok = n == 5 && run_push(rs, &e) == 0;
    }
    fclose(f);
    if (!ok || rs->nhist != rs->done || rs->batch < 2) {
        cli_err("'%s' is not a valid run state file", path);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* ---- the loop ------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Order of the samples in epoch @p epoch: a pure function of (seed, epoch). */
static void epoch_order(size_t *idx, size_t n, uint64_t seed, uint64_t epoch)
{
    uint64_t s = seed ^ 0x5ee71e5ull;
    s = splitmix64(&s) ^ (epoch * 0xD1B54A32D192ED03ull);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = n; i > 1; i--) {
        uint64_t lim = UINT64_MAX - UINT64_MAX % i, v;
        do
            v = splitmix64(&s);
        while (v >= lim);
        size_t j = (size_t)(v % i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* Fingerprint of both splits (sizes, features, labels, values). */
static uint64_t data_fingerprint(const cli_data *d)
{
    uint64_t h = CLI_FNV1A_BASIS;
    const cli_split *sp[2] = {&d->train, &d->test};
    h = cli_fnv1a(h, &d->features, sizeof d->features);
    for (int k = 0; k < 2; k++) {
        h = cli_fnv1a(h, &sp[k]->n, sizeof sp[k]->n);
        h = cli_fnv1a(h, sp[k]->y, sp[k]->n * sizeof *sp[k]->y);
        h = cli_fnv1a(h, sp[k]->x, sp[k]->n * d->features * sizeof *sp[k]->x);
    }
    return h;
}

/* Batches per epoch: a final batch smaller than 2 is skipped (BatchNorm). */
static uint64_t batches_per_epoch(size_t n, uint64_t batch)
{
    return n / batch + (n % batch >= 2 ? 1 : 0);
}

typedef struct trainer_run {
    train_args *a;
    cli_data *d;
    splut_ctx *ctx;
    splut_model *m, *best;
    splut_model *evalm; /* what the last epoch evaluated: m or avg.avg */
    cli_average avg;
    cli_teacher teacher; /* --distill */
    splut_trainer *t;
    run_state rs;
    int show;             /* progress on stderr */
    double train_secs;    /* optimiser time of this process */
    uint64_t samples;     /* samples stepped in this process */
    size_t *order;
    float *xb;
    int32_t *yb;
} trainer_run;

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, cap, "?");
    else if (s >= 3600)
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static void show_batch(trainer_run *r, uint64_t epoch, uint64_t b, uint64_t nb, double loss,
                       double t_epoch0, double *last)
{
    double now = cli_now();
    if (!r->show || now - *last < (isatty(2) ? 0.25 : 10.0))
        return;
    *last = now;
    double el = now - t_epoch0, rate = (double)(b * r->a->batch) / (el > 0 ? el : 1e-9);
    double left = (double)(nb - b) / (b ? (double)b / el : 1) +
                  (double)(r->a->epochs - epoch) * (double)nb / (b ? (double)b / el : 1);
    char eta[32];
    fmt_eta(eta, sizeof eta, left);
    fprintf(stderr, "%sepoch %llu/%llu  batch %llu/%llu  loss %.4f  %.0f samples/s  ETA %s%s",
            isatty(2) ? "\r" : "", (unsigned long long)epoch, (unsigned long long)r->a->epochs,
            (unsigned long long)b, (unsigned long long)nb, loss, rate, eta,
            isatty(2) ? "   " : "\n");
}

/* The training input of the sample at @p position of @p epoch, augmented if asked. */
static void copy_sample(const trainer_run *r, uint64_t epoch, size_t position, const float *src,
                        float *dst)
{
    const cli_data *d = r->d;
    if (!r->a->shift) {
        memcpy(dst, src, d->features * sizeof *dst);
        return;
    }
    int dx, dy;
    cli_shift_offsets(r->a->seed, epoch, position, (unsigned)r->a->shift, &dx, &dy);
    cli_shift_image(src, dst, d->width, d->height, dx, dy, d->background);
}

/* --bn-freeze K: the last K epochs of every cosine cycle (of the run when the
 * rate is constant), in phase 2, train with frozen statistics, calibrated on
 * the training set at the first of them and kept to the last: calibrating
 * again would measure train-mode passes of weights that now fit the frozen
 * statistics, and moved the function away from what was trained (measured:
 * eval-mode training accuracy fell 1.5 points in five epochs). The others use
 * batch statistics. A function of the epoch and the model only, so an
 * interrupted run resumes exactly. */
static int bn_frozen_epoch(const train_args *a, uint64_t epoch)
{
    uint64_t K = a->bn_freeze, R = a->restart_epochs;
    return K && (R ? (epoch - 1) % R >= R - K : epoch + K > a->epochs);
}

static int set_bn_freeze(trainer_run *r, uint64_t epoch)
{
    int frozen = bn_frozen_epoch(r->a, epoch) && splut_trainer_model_in_training(r->t) == r->m;
    int first = epoch == 1 || !bn_frozen_epoch(r->a, epoch - 1);
    splut_status st = SPLUT_OK;
    if (frozen && first)
        st = splut_trainer_calibrate_bn(r->t, r->d->train.x, r->d->train.n, (size_t)r->a->batch);
    if (!st)
        st = splut_trainer_set_int(r->t, SPLUT_P_BN_FROZEN, frozen);
    return st ? cli_lib_err(r->ctx, st, "freezing BatchNorm (--bn-freeze)") : CLI_EXIT_OK;
}

/* One optimiser pass over the shuffled training set; mean loss in @p loss. */
static int train_epoch(trainer_run *r, uint64_t epoch, double *loss)
{
    const cli_split *s = &r->d->train;
    uint32_t nf = r->d->features;
    uint64_t B = r->a->batch, nb = batches_per_epoch(s->n, B);
    epoch_order(r->order, s->n, r->a->seed, epoch);
    /* phase 1 of a two-phase run (epochs 1..T) trains its surrogate on labels */
    int distilled = r->teacher.m != NULL &&
                    !(two_phase(&r->a->conn) && epoch <= r->a->conn.switch_epoch);
    double sum = 0, t0 = cli_now(), last = t0;
    size_t seen = 0;
    if (set_bn_freeze(r, epoch))
        return CLI_EXIT_FAIL;
    for (uint64_t b = 0; b < nb; b++) {
        size_t lo = (size_t)(b * B), n = s->n - lo < B ? s->n - lo : (size_t)B;
        for (size_t k = 0; k < n; k++) {
            size_t row = r->order[lo + k];
            copy_sample(r, epoch, lo + k, s->x + row * nf, r->xb + k * nf);
            r->yb[k] = s->y[row];
        }
        double l = 0;
        splut_status st;
        if (distilled) {
            if (cli_teacher_targets(&r->teacher, r->xb, r->yb, n))
                return CLI_EXIT_FAIL;
            st = splut_trainer_step_soft(r->t, r->xb, r->teacher.targets, n, &l);
        } else {
            st = splut_trainer_step(r->t, r->xb, r->yb, n, &l);
        }
        if (st) {
            char what[120];
            snprintf(what, sizeof what, "training step %llu of epoch %llu",
                     (unsigned long long)b + 1, (unsigned long long)epoch);
            return cli_lib_err(r->ctx, st, what);
        }
        if (splut_trainer_model_in_training(r->t) == r->m && cli_average_update(&r->avg, r->m))
            return CLI_EXIT_FAIL;
        sum += l * (double)n;
        seen += n;
        show_batch(r, epoch, b + 1, nb, sum / (double)seen, t0, &last);
    }
    r->train_secs += cli_now() - t0;
    r->samples += seen;
    *loss = seen ? sum / (double)seen : 0;
    return CLI_EXIT_OK;
}

static int set_metadata(splut_model *m, uint64_t epochs, double acc)
{
    splut_status st = splut_model_set_int(m, SPLUT_P_EPOCHS_TRAINED, (int64_t)epochs);
    if (!st)
        st = splut_model_set_double(m, SPLUT_P_TEST_ACCURACY, acc);
    return st ? cli_lib_err(splut_model_ctx(m), st, "setting model metadata") : CLI_EXIT_OK;
}

static int keep_if_best(trainer_run *r, const epoch_rec *e)
{
    if (splut_trainer_model_in_training(r->t) != r->m) /* phase 1: no target model yet */
        return CLI_EXIT_OK;
    if (!r->a->keep_best || (r->rs.best_epoch && e->test_acc <= r->rs.best_acc))
        return CLI_EXIT_OK;
    splut_model *c = NULL;
    splut_status st = splut_model_clone(r->evalm, &c);
    if (st)
        return cli_lib_err(r->ctx, st, "copying the best model");
    splut_model_destroy(r->best);
    r->best = c;
    r->rs.best_acc = e->test_acc;
    r->rs.best_epoch = e->epoch;
    return CLI_EXIT_OK;
}

static int save_checkpoint(trainer_run *r)
{
    const char *ck = r->a->checkpoint;
    if (!ck)
        return CLI_EXIT_OK;
    if (splut_trainer_model_in_training(r->t) != r->m) {
        if (r->show)
            fprintf(stderr, "note: no checkpoint during phase 1 of learned connectivity\n");
        return CLI_EXIT_OK;
    }
    splut_status st = splut_trainer_save(r->t, ck);
    if (st) {
        char what[4200];
        snprintf(what, sizeof what, "writing checkpoint '%s'", ck);
        return cli_lib_err(r->ctx, st, what);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s.ema", ck);
    if (cli_average_save(&r->avg, r->m, path))
        return CLI_EXIT_FAIL;
    r->rs.ema_started = r->avg.n_params > 0;
    if (r->best && r->rs.best_epoch == r->rs.done) {
        snprintf(path, sizeof path, "%s.best", ck);
        st = splut_model_save(r->best, path);
        if (st)
            return cli_lib_err(r->ctx, st, "writing the best model next to the checkpoint");
    }
    int64_t step = 0;
    splut_trainer_get_int(r->t, SPLUT_P_STEP, &step);
    r->rs.step = (uint64_t)step;
    return run_save(ck, &r->rs);
}

static void record_connections(const trainer_run *r, epoch_rec *e)
{
    size_t nl = splut_model_num_layers(r->m);
    e->n_layers = nl < CURVE_LAYERS ? nl : CURVE_LAYERS;
    for (size_t l = 0; l < e->n_layers; l++)
        if (splut_trainer_connections(r->t, l, &e->active[l], NULL))
            e->active[l] = 0;
}

static int run_epoch(trainer_run *r, uint64_t epoch)
{
    double t0 = cli_now();
    epoch_rec e = {.epoch = epoch};
    int rc = train_epoch(r, epoch, &e.loss);
    /* phase 1 of learned connectivity trains a surrogate: measure that */
    const splut_model *live = splut_trainer_model_in_training(r->t);
    int64_t frozen = 0; /* what this epoch trained with (set_bn_freeze) */
    splut_trainer_get_int(r->t, SPLUT_P_BN_FROZEN, &frozen);
    if (!rc && live == r->m)
        rc = cli_average_model(&r->avg, r->m, &r->d->train, r->a->batch, frozen != 0,
                               &r->evalm);
    if (live == r->m)
        live = r->evalm;
    if (!rc) /* both accuracies in eval mode, as the reference's "valid" and test loaders */
        rc = cli_accuracy(live, &r->d->train, r->d->features, &e.train_acc);
    if (!rc)
        rc = cli_accuracy(live, &r->d->test, r->d->features, &e.test_acc);
    e.live_test_acc = NAN;
    if (!rc && live != splut_trainer_model_in_training(r->t))
        rc = cli_accuracy(r->m, &r->d->test, r->d->features, &e.live_test_acc);
    record_connections(r, &e);
    if (!rc)
        rc = set_metadata(r->m, epoch, e.test_acc);
    if (!rc && r->evalm != r->m)
        rc = set_metadata(r->evalm, epoch, e.test_acc);
    e.seconds = cli_now() - t0;
    if (!rc && run_push(&r->rs, &e)) {
        cli_err("out of memory");
        rc = CLI_EXIT_FAIL;
    }
    r->rs.done = epoch;
    if (!rc)
        rc = keep_if_best(r, &e);
    if (!rc)
        rc = save_checkpoint(r);
    if (!rc && r->show)
        fprintf(stderr, "%sepoch %llu/%llu  loss %.4f  train_acc %.4f  test_acc %.4f  %.1f s%s\n",
                isatty(2) ? "\r" : "", (unsigned long long)epoch,
                (unsigned long long)r->a->epochs, e.loss, e.train_acc, e.test_acc, e.seconds,
                isatty(2) ? "          " : "");
    return rc;
}

/* ---- setup ---------------------------------------------------------------- */

static int make_model(trainer_run *r)
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
    return rc;
}

/* Learned connectivity or pre-training: the trainer needs the epoch length
 * for its schedule. */
static splut_status configure_connectivity(splut_trainer *t, const conn_args *c, uint64_t nb)
{
    if (!two_phase(c))
        return SPLUT_OK;
    splut_status st = splut_trainer_set_int(t, SPLUT_P_CONNECTIVITY, c->learned ? 1 : 2);
    if (!st)
        st = splut_trainer_set_int(t, SPLUT_P_STEPS_PER_EPOCH, (int64_t)nb);
    if (!st && c->switch_set)
        st = splut_trainer_set_int(t, SPLUT_P_SWITCH_EPOCH, (int64_t)c->switch_epoch);
    if (!st && c->candidates_set)
        st = splut_trainer_set_int(t, SPLUT_P_CONN_CANDIDATES, (int64_t)c->candidates);
    if (!st && c->regrow_set)
        st = splut_trainer_set_int(t, SPLUT_P_CONN_REGROW, (int64_t)c->regrow);
    if (!st && c->tau_set)
        st = splut_trainer_set_double(t, SPLUT_P_CONN_TAU, c->tau);
    if (!st && c->l1_set)
        st = splut_trainer_set_double(t, SPLUT_P_CONN_L1, c->l1);
    if (!st && c->temperature_set)
        st = splut_trainer_set_double(t, SPLUT_P_CONN_TEMPERATURE, c->temperature);
    if (!st && c->swap_set)
        st = splut_trainer_set_double(t, SPLUT_P_CONN_SWAP, c->swap);
    if (!st && c->plateau_set)
        st = splut_trainer_set_double(t, SPLUT_P_CONN_PLATEAU, c->plateau);
    if (!st && c->cover_set)
        st = splut_trainer_set_int(t, SPLUT_P_CONN_COVER, c->cover);
    if (!st && c->explore_set)
        st = splut_trainer_set_int(t, SPLUT_P_CONN_EXPLORE, c->explore);
    if (!st && c->stagger_set)
        st = splut_trainer_set_double(t, SPLUT_P_CONN_STAGGER, c->stagger);
    if (!st && c->warm_set)
        st = splut_trainer_set_int(t, SPLUT_P_CONN_WARM, c->warm);
    return st;
}

/* Take batch/lr/seed/restart from the run state on resume; refuse conflicts. */
static int adopt_run_state(trainer_run *r)
{
    train_args *a = r->a;
    run_state *rs = &r->rs;
    if ((a->seed_set && a->seed != rs->seed) || (a->batch_set && a->batch != rs->batch) ||
        (a->lr_set && a->lr != rs->lr) ||
        (a->restart_set && a->restart_epochs != rs->restart_epochs))
        return cli_usage_err("train", "--seed/--batch/--lr/--restart-epochs differ from the "
                                      "values recorded in the checkpoint's run state");
    a->seed = rs->seed;
    a->batch = rs->batch;
    a->lr = rs->lr;
    a->restart_epochs = rs->restart_epochs;
    a->seed_set = a->batch_set = a->lr_set = 1;
    if (a->keep_best && !rs->keep_best && rs->done > 0)
        return cli_usage_err("train", "--keep-best: the checkpoint was written without "
                                      "--keep-best, so the best model so far is unknown");
    if (rs->ema != a->ema || rs->bn_calibrate != a->bn_calibrate)
        return cli_usage_err("train", "--ema/--bn-calibrate differ from the values recorded "
                                      "in the checkpoint's run state");
    if (rs->teacher && !a->distill)
        return cli_usage_err("train", "the checkpoint's run was distilled: give the same "
                                      "--distill FILE (and alpha, temperature) to resume it");
    if (rs->shift != a->shift)
        return cli_usage_err("train", "--augment-shift %llu differs from the %llu recorded in "
                                      "the checkpoint's run state",
                             (unsigned long long)a->shift, (unsigned long long)rs->shift);
    if (rs->bn_freeze != a->bn_freeze)
        return cli_usage_err("train", "--bn-freeze %llu differs from the %llu recorded in "
                                      "the checkpoint's run state",
                             (unsigned long long)a->bn_freeze,
                             (unsigned long long)rs->bn_freeze);
    if (rs->done > a->epochs)
        return cli_usage_err("train", "the checkpoint already has %llu epochs, more than "
                                      "--epochs %llu",
                             (unsigned long long)rs->done, (unsigned long long)a->epochs);
    return CLI_EXIT_OK;
}

static int recipe_defaults(trainer_run *r)
{
    train_args *a = r->a;
    int64_t batch = 128;
    double lr = 1e-3;
    splut_model_get_int(r->m, SPLUT_P_RECIPE_BATCH, &batch);
    splut_model_get_double(r->m, SPLUT_P_RECIPE_LR, &lr);
    if (!a->batch_set)
        a->batch = batch < 2 ? 2 : (uint64_t)batch;
    if (!a->lr_set)
        a->lr = lr;
    return CLI_EXIT_OK;
}

static int make_trainer(trainer_run *r)
{
    train_args *a = r->a;
    splut_status st = splut_trainer_create(r->m, &r->t);
    if (st)
        return cli_lib_err(r->ctx, st, "creating the trainer");
    uint64_t nb = batches_per_epoch(r->d->train.n, a->batch);
    if (nb == 0) {
        cli_err("the training set has %zu samples: not enough for one batch of at least 2",
                r->d->train.n);
        return CLI_EXIT_FAIL;
    }
    st = splut_trainer_set_double(r->t, SPLUT_P_LEARNING_RATE, a->lr);
    if (!st && a->wd_set)
        st = splut_trainer_set_double(r->t, SPLUT_P_WEIGHT_DECAY, a->wd);
    if (!st && a->beta1_set)
        st = splut_trainer_set_double(r->t, SPLUT_P_BETA1, a->beta1);
    if (!st && a->beta2_set)
        st = splut_trainer_set_double(r->t, SPLUT_P_BETA2, a->beta2);
    if (!st)
        st = splut_trainer_set_int(r->t, SPLUT_P_RESTART_PERIOD,
                                   (int64_t)(a->restart_epochs * nb));
    if (!st)
        st = configure_connectivity(r->t, &a->conn, nb);
    if (st)
        return cli_lib_err(r->ctx, st, "configuring the trainer");
    if (a->resume) {
        st = splut_trainer_load(r->t, a->resume);
        if (st) {
            char what[4200];
            snprintf(what, sizeof what, "resuming from '%s'", a->resume);
            return cli_lib_err(r->ctx, st, what);
        }
        int64_t step = -1;
        splut_trainer_get_int(r->t, SPLUT_P_STEP, &step);
        if ((uint64_t)step != r->rs.step) {
            cli_err("checkpoint '%s' (step %lld) and its run state (step %llu) disagree",
                    a->resume, (long long)step, (unsigned long long)r->rs.step);
            return CLI_EXIT_FAIL;
        }
    }
    return CLI_EXIT_OK;
}

static int load_average(trainer_run *r)
{
    r->avg.decay = r->a->ema;
    r->avg.calibrate = r->a->bn_calibrate;
    if (!r->a->resume || !r->rs.ema_started)
        return CLI_EXIT_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s.ema", r->a->resume);
    return cli_average_load(&r->avg, r->ctx, path);
}

static int load_best(trainer_run *r)
{
    if (!r->a->resume || !r->a->keep_best || !r->rs.best_epoch)
        return CLI_EXIT_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s.best", r->a->resume);
    splut_status st = splut_model_load(r->ctx, path, &r->best);
    if (st) {
        char what[4300];
        snprintf(what, sizeof what, "loading the best model '%s' (--keep-best)", path);
        return cli_lib_err(r->ctx, st, what);
    }
    return CLI_EXIT_OK;
}

/* ---- report --------------------------------------------------------------- */

static const epoch_rec *final_record(const trainer_run *r)
{
    if (r->rs.nhist == 0)
        return NULL;
    if (r->a->keep_best && r->rs.best_epoch)
        return &r->rs.hist[r->rs.best_epoch - 1];
    return &r->rs.hist[r->rs.nhist - 1];
}

static void report(const trainer_run *r, double seconds)
{
    const epoch_rec *fin = final_record(r);
    double sps = r->train_secs > 0 ? (double)r->samples / r->train_secs : 0;
    if (!r->a->json) {
        if (fin)
            printf("saved %s (%s, epoch %llu): test_accuracy %.4f train_accuracy %.4f, "
                   "%.1f s, %.0f samples/s\n",
                   r->a->out, r->a->keep_best ? "best" : "last",
                   (unsigned long long)fin->epoch, fin->test_acc, fin->train_acc, seconds, sps);
        return;
    }
    cli_json j = {.out = stdout};
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "model", r->a->out);
    cli_json_double(&j, "test_accuracy", fin ? fin->test_acc : NAN);
    cli_json_double(&j, "train_accuracy", fin ? fin->train_acc : NAN);
    cli_json_int(&j, "epochs", (int64_t)r->rs.done);
    cli_json_string(&j, "kept", r->a->keep_best ? "best" : "last");
    cli_json_int(&j, "kept_epoch", fin ? (int64_t)fin->epoch : 0);
    cli_json_double(&j, "seconds", seconds);
    cli_json_double(&j, "train_samples_per_s", sps);
    cli_json_int(&j, "batch", (int64_t)r->a->batch);
    cli_json_double(&j, "lr", r->a->lr);
    cli_json_int(&j, "seed", (int64_t)r->a->seed);
    if (r->a->shift)
        cli_json_int(&j, "augment_shift", (int64_t)r->a->shift);
    if (r->a->bn_freeze)
        cli_json_int(&j, "bn_freeze", (int64_t)r->a->bn_freeze);
    if (r->teacher.m) {
        cli_json_string(&j, "distill_teacher", r->a->distill);
        cli_json_double(&j, "distill_alpha", r->teacher.alpha);
        cli_json_double(&j, "distill_temperature", r->teacher.temperature);
    }
    int64_t switch_epoch = 0; /* the trainer's: a resumed run keeps its checkpoint's */
    if (two_phase(&r->a->conn) && !splut_trainer_get_int(r->t, SPLUT_P_SWITCH_EPOCH, &switch_epoch))
        cli_json_int(&j, "switch_epoch", switch_epoch);
    cli_json_int(&j, "train_samples", (int64_t)r->d->train.n);
    cli_json_int(&j, "test_samples", (int64_t)r->d->test.n);
    cli_json_begin_array(&j, "history");
    for (size_t i = 0; i < r->rs.nhist; i++) {
        const epoch_rec *e = &r->rs.hist[i];
        cli_json_begin_object(&j, NULL);
        cli_json_int(&j, "epoch", (int64_t)e->epoch);
        cli_json_double(&j, "loss", e->loss);
        cli_json_double(&j, "train_accuracy", e->train_acc);
        cli_json_double(&j, "test_accuracy", e->test_acc);
        cli_json_double(&j, "seconds", e->seconds);
        if (!isnan(e->live_test_acc))
            cli_json_double(&j, "live_test_accuracy", e->live_test_acc);
        if (e->n_layers) {
            cli_json_begin_array(&j, "active_connections");
            for (size_t l = 0; l < e->n_layers; l++)
                cli_json_int(&j, NULL, (int64_t)e->active[l]);
            cli_json_end_array(&j);
        }
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

/* The --distill teacher; on resume it must be the file the run started with. */
static int load_teacher(trainer_run *r)
{
    train_args *a = r->a;
    /* defaults: the better of the two settings measured (docs/training.md) */
    r->teacher.alpha = a->distill_alpha_set ? a->distill_alpha : 0.9;
    r->teacher.temperature = a->distill_temperature_set ? a->distill_temperature : 2.0;
    int rc = cli_teacher_load(&r->teacher, r->ctx, a->distill, r->m, (size_t)a->batch);
    if (rc)
        return rc;
    const run_state *rs = &r->rs;
    if (a->resume && (rs->teacher != r->teacher.fingerprint ||
                      rs->teacher_alpha != r->teacher.alpha ||
                      rs->teacher_temperature != r->teacher.temperature))
        return cli_usage_err("train", "--distill FILE, alpha or temperature differ from the "
                                      "checkpoint's run state");
    r->rs.teacher = r->teacher.fingerprint;
    r->rs.teacher_alpha = r->teacher.alpha;
    r->rs.teacher_temperature = r->teacher.temperature;
    return CLI_EXIT_OK;
}

static int write_model(trainer_run *r)
{
    const splut_model *m = r->a->keep_best && r->best ? r->best : r->evalm;
    splut_status st = splut_model_save(m, r->a->out);
    if (st) {
        char what[4200];
        snprintf(what, sizeof what, "writing model '%s'", r->a->out);
        return cli_lib_err(r->ctx, st, what);
    }
    return CLI_EXIT_OK;
}

static int train_run(trainer_run *r)
{
    train_args *a = r->a;
    int rc = CLI_EXIT_OK;
    if (a->resume && (rc = run_load(a->resume, &r->rs)) == 0)
        rc = adopt_run_state(r);
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
    uint64_t fp = rc ? 0 : data_fingerprint(r->d);
    if (!rc && a->resume && fp != r->rs.data_hash) {
        cli_err("the dataset differs from the one the checkpoint '%s' was trained on",
                a->resume);
        rc = CLI_EXIT_FAIL;
    }
    r->rs.data_hash = fp;
    if (!rc)
        rc = recipe_defaults(r);
    if (!rc && a->restart_epochs && a->bn_freeze > a->restart_epochs)
        rc = cli_usage_err("train", "--bn-freeze %llu is longer than a cosine cycle "
                                    "(--restart-epochs %llu)",
                           (unsigned long long)a->bn_freeze,
                           (unsigned long long)a->restart_epochs);
    if (!rc && a->distill)
        rc = load_teacher(r);
    if (!rc)
        rc = make_trainer(r);
    if (!rc)
        rc = load_best(r);
    if (!rc)
        rc = load_average(r);
    if (rc)
        return rc;
    r->evalm = r->m;
    r->rs.seed = a->seed;
    r->rs.batch = a->batch;
    r->rs.lr = a->lr;
    r->rs.restart_epochs = a->restart_epochs;
    r->rs.keep_best = a->keep_best;
    r->rs.ema = a->ema;
    r->rs.bn_calibrate = a->bn_calibrate;
    r->rs.shift = a->shift;
    r->rs.bn_freeze = a->bn_freeze;
    r->order = malloc((r->d->train.n ? r->d->train.n : 1) * sizeof *r->order);
    r->xb = malloc(a->batch * r->d->features * sizeof *r->xb);
    r->yb = malloc(a->batch * sizeof *r->yb);
    if (!r->order || !r->xb || !r->yb) {
        cli_err("out of memory for batch buffers");
        return CLI_EXIT_FAIL;
    }
    double t0 = cli_now();
    for (uint64_t e = r->rs.done + 1; e <= a->epochs && !rc; e++)
        rc = run_epoch(r, e);
    if (!rc)
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
    trainer_run r = {.a = &a, .d = &d};
    r.show = a.progress || isatty(2);
    r.ctx = cli_ctx_new((int64_t)a.threads);
    if (!r.ctx)
        return CLI_EXIT_FAIL;
    rc = train_run(&r);
    free(r.order);
    free(r.xb);
    free(r.yb);
    free(r.rs.hist);
    splut_trainer_destroy(r.t);
    splut_model_destroy(r.best);
    cli_average_free(&r.avg);
    cli_teacher_free(&r.teacher);
    splut_model_destroy(r.m);
    splut_ctx_unref(r.ctx);
    cli_data_free(&d);
    return rc;
}
