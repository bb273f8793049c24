# SPDX-License-Identifier: Apache-2.0
"""Regression tests of issue 26: no wrapper reads freed C memory, copies never
share a C handle, and array shapes and scalars are checked before ctypes sees
them (ctypes itself wraps integers silently). Run with and without numpy."""

import copy
import os
import pickle
import random
import unittest

import sparselut as sl

NUMPY = sl.have_numpy()
if NUMPY:
    import numpy as np


def small_model(ctx):
    """8 inputs of 2 bits -> PolyLUT-Add (A=2, F=2, D=2) 6 wide -> PolyLUT 3 wide."""
    return sl.Model(ctx, 8, 2, [sl.Layer("poly_add", 6, 2, 2, degree=2, sub_neurons=2),
                                sl.Layer("poly", 3, 3, 2, degree=2)])


def batch(n, seed):
    r = random.Random(seed)
    x = [[r.gauss(0.0, 1.0) for _ in range(8)] for _ in range(n)]
    return x, [int(row[0] > 0) + int(row[1] > 0) for row in x]


def as_lists(a):
    return a.tolist() if hasattr(a, "tolist") else a


def shake(model, seed):
    """Perturb every parameter so that the model's tables differ from others'."""
    r = random.Random(seed)
    model.params = [v + r.uniform(-0.5, 0.5) for v in as_lists(model.params)]


class TestLifetimes(unittest.TestCase):
    def setUp(self):
        self.ctx = sl.Context(threads=1, seed=3)

    def tearDown(self):
        self.ctx.close()

    @unittest.skipUnless(NUMPY, "views need numpy (lists are copies)")
    def test_table_view_outlives_the_with_block(self):
        with small_model(self.ctx) as m:
            shake(m, 1)
            with m.tables() as t:
                v = t.data(0, 0)
                want = v.tolist()
            # reuse the freed-if-unowned memory with other tables of other values
            others = []
            for seed in range(2, 12):
                shake(m, seed)
                others.append(m.tables())
            self.assertEqual(v.tolist(), want)
            self.assertEqual(v[1:].tolist(), want[1:])  # slices keep it alive too
            for o in others:
                o.close()

    def test_rows_iterator_raises_after_close(self):
        with small_model(self.ctx) as m:
            t = m.tables()
            it = t.rows(0, 0)
            first = next(it)
            self.assertEqual(first[0], 0)
            t.close()
            with self.assertRaises(sl.Error) as cm:
                next(it)
            self.assertEqual(cm.exception.status, sl.E_NULL)

    def test_rows_iterator_that_never_started_is_harmless(self):
        with small_model(self.ctx) as m:
            t = m.tables()
            it = t.rows(0, 0)
            t.close()
            del it  # nothing was created, nothing to free

    def learned_trainer(self, m):
        t = sl.Trainer(m, learning_rate=0.01)
        t.set("connectivity", 1)
        t.set("steps_per_epoch", 1)
        t.set("switch_epoch", 3)
        return t

    def test_surrogate_raises_after_trainer_close(self):
        x, y = batch(16, 1)
        with small_model(self.ctx) as m:
            t = self.learned_trainer(m)
            t.step(x, y)
            s = t.model_in_training
            self.assertIsNot(s, m)
            self.assertEqual(len(as_lists(s.predict(x))), 16)
            t.close()
            with self.assertRaises(sl.Error) as cm:
                s.predict(x)
            self.assertEqual(cm.exception.status, sl.E_STATE)
            self.assertIn("closed", repr(s))

    def test_surrogate_raises_after_the_switch_epoch(self):
        x, y = batch(16, 2)
        with small_model(self.ctx) as m:
            with self.learned_trainer(m) as t:
                t.step(x, y)
                s = t.model_in_training
                for _ in range(4):
                    t.step(x, y)
                self.assertIs(t.model_in_training, m)
                with self.assertRaises(sl.Error) as cm:
                    s.predict(x)
                self.assertEqual(cm.exception.status, sl.E_STATE)
                with self.assertRaises(sl.Error):
                    s.num_inputs

    def test_model_outlives_trainer_in_any_close_order(self):
        x, y = batch(16, 3)
        m = small_model(self.ctx)
        t = sl.Trainer(m)
        t.step(x, y)
        del m  # the trainer keeps the Python model (and the C one) alive
        t.step(x, y)
        t.close()

    def test_copy_and_deepcopy_clone_the_model(self):
        x, _ = batch(8, 4)
        with small_model(self.ctx) as m:
            shake(m, 5)
            for c in (copy.copy(m), copy.deepcopy(m), copy.deepcopy([m])[0]):
                self.assertNotEqual(c._h, m._h)
                self.assertEqual(c.serialize(), m.serialize())
                self.assertIs(c.context, m.context)
                c.close()
            c = copy.copy(m)
        # the original is closed: the copy must still be whole
        self.assertEqual(len(as_lists(c.predict(x))), 8)
        c.close()

    def test_pickle_serializes_the_model_and_context_settings(self):
        x, _ = batch(8, 5)
        with small_model(self.ctx) as m:
            shake(m, 6)
            p = pickle.loads(pickle.dumps(m))
            self.assertNotEqual(p._h, m._h)
            self.assertEqual(p.serialize(), m.serialize())
            self.assertEqual(as_lists(p.predict(x)), as_lists(m.predict(x)))
            self.assertEqual(p.context.seed, 3)
            self.assertEqual(p.context.threads, 1)
            p.close()

    def test_other_handles_refuse_copy_and_pickle(self):
        with small_model(self.ctx) as m, sl.Trainer(m) as t, m.tables() as tb:
            for h in (self.ctx, t, tb):
                for op in (copy.copy, copy.deepcopy, pickle.dumps):
                    with self.assertRaises(TypeError, msg="%s %s" % (op.__name__, h)):
                        op(h)


class TestShapesAndScalars(unittest.TestCase):
    def setUp(self):
        self.ctx = sl.Context(threads=1, seed=3)
        self.m = small_model(self.ctx)

    def tearDown(self):
        self.m.close()
        self.ctx.close()

    def test_rows_must_be_num_inputs_wide(self):
        x, _ = batch(2, 1)
        flat16 = [v for row in x for v in row]
        for bad in ([flat16[:16]] * 2, flat16, [x, x], [row + row for row in x]):
            with self.assertRaises(ValueError):
                self.m.predict(bad)
        with self.assertRaises(ValueError):
            self.m.forward_codes([[1] * 16, [1] * 16])
        self.assertEqual(len(as_lists(self.m.predict(x[0]))), 1)  # one row

    @unittest.skipUnless(NUMPY, "numpy shapes")
    def test_numpy_shapes(self):
        x = np.asarray(batch(64, 2)[0], dtype=np.float32)
        want = self.m.predict(x).tolist()
        for bad in (x.reshape(32, 16), x.reshape(16, 4, 8), x.T, x.reshape(-1)):
            with self.assertRaises(ValueError, msg=str(bad.shape)):
                self.m.predict(bad)
        # other layouts and dtypes of the right shape are converted, not rejected
        self.assertEqual(self.m.predict(np.asfortranarray(x)).tolist(), want)
        self.assertEqual(self.m.predict(x.astype(np.float64)).tolist(), want)
        self.assertEqual(self.m.predict(np.ascontiguousarray(x.T).T).tolist(), want)
        with self.assertRaises(TypeError):
            self.m.predict(x.astype(str))

    def test_labels_and_codes_must_be_integral(self):
        x, y = batch(16, 3)
        with sl.Trainer(self.m) as t:
            with self.assertRaises(ValueError):
                t.step(x, [v + 0.5 for v in y])
            with self.assertRaises(ValueError):
                t.step(x, [[v] for v in y])  # labels are a vector
            loss_int = t.loss_grad(x, y, grad=False)
            self.assertEqual(t.loss_grad(x, [float(v) for v in y], grad=False), loss_int)
        with self.assertRaises(ValueError):
            self.m.forward_codes([[1.5] * 8])
        with self.assertRaises(ValueError):
            self.m.forward_codes([[float("nan")] * 8])
        self.assertEqual(as_lists(self.m.forward_codes([[1.0] * 8])),
                         as_lists(self.m.forward_codes([[1] * 8])))

    def test_scalars_are_range_checked(self):
        with self.assertRaises((ValueError, OverflowError)):
            sl.Context(seed=2 ** 64 + 5)
        with self.assertRaises((ValueError, OverflowError)):
            self.ctx.seed = -2 ** 63 - 1
        with self.assertRaises((ValueError, OverflowError)):
            sl.Model(self.ctx, -1, 2, [sl.Layer("poly", 3, 3, 2, degree=2)])
        with self.assertRaises((ValueError, OverflowError)):
            sl.Model(self.ctx, 8, 2, [sl.Layer("poly", -3, 3, 2, degree=2)])
        with self.assertRaises((ValueError, OverflowError)):
            self.m.get_inputs(0, -1)  # would wrap to neuron 4294967295
        with self.assertRaises((ValueError, OverflowError)):
            self.m.get_inputs(2 ** 64, 0)
        with self.assertRaises((ValueError, OverflowError)):
            self.m.grow(0, 0, 0, 1, 1e39)  # would become an infinite float
        with self.m.tables() as tb, self.assertRaises((ValueError, OverflowError)):
            tb.latency(pipeline=2 ** 32 + 1)  # would wrap to pipeline 1
        with self.assertRaises(TypeError):
            self.ctx.threads = 1.5
        with self.assertRaises(TypeError):
            self.m.set("recipe_batch", "64")
        self.m.set("recipe_batch", 64.0)  # integral floats are fine
        self.assertEqual(self.m.get("recipe_batch"), 64)
        self.assertTrue(issubclass(sl.RangeError, ValueError))
        self.assertTrue(issubclass(sl.RangeError, OverflowError))


if __name__ == "__main__":
    unittest.main()
