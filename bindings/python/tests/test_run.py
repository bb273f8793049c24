# SPDX-License-Identifier: Apache-2.0
"""Tests of sparselut.Run (training runs); run with and without numpy.

Expected results come from other paths through the library: the same run
driven differently (fit versus epoch by epoch, stopped and continued, resumed
from a checkpoint) must end with the same model bytes.
"""

import os
import random
import tempfile
import unittest

import sparselut as sl


def toy_data(n, features, seed):
    """Features and labels where the class is decided by features 0 and 1."""
    r = random.Random(seed)
    x = [[r.gauss(0.0, 1.0) for _ in range(features)] for _ in range(n)]
    y = [int(row[0] > 0) + int(row[1] > 0) for row in x]
    return x, y


class RunTest(unittest.TestCase):
    def setUp(self):
        self.ctx = sl.Context(seed=3)
        self.train = toy_data(96, 8, 1)
        self.test = toy_data(32, 8, 2)
        self.dir = tempfile.mkdtemp(prefix="splut-run-py-")

    def model(self):
        return sl.Model(self.ctx, 8, 2, [sl.Layer("poly", 6, 3, 2, degree=2),
                                         sl.Layer("poly", 3, 3, 2, degree=2)])

    def run_bytes(self, drive, **params):
        """Final model bytes of a 3-epoch run driven by ``drive(run)``."""
        m = self.model()
        p = dict(epochs=3, batch=16, seed=5, ema=0.8, keep_best=1, learning_rate=0.02)
        p.update(params)
        with sl.Run(m, self.train, self.test, **p) as run:
            drive(run)
            data = run.final_model.serialize()
        m.close()
        return data

    def test_fit_equals_epochs_and_history(self):
        whole = self.run_bytes(lambda r: r.fit())
        records = []
        by_epoch = self.run_bytes(lambda r: records.extend(r.epoch() for _ in range(3)))
        self.assertEqual(whole, by_epoch)
        self.assertEqual([rec["epoch"] for rec in records], [1, 2, 3])
        self.assertTrue(all(0.0 <= rec["test_accuracy"] <= 1.0 for rec in records))
        other = self.run_bytes(lambda r: r.fit(), seed=6)  # the comparison can fail
        self.assertNotEqual(whole, other)

    def test_cancel_and_continue(self):
        whole = self.run_bytes(lambda r: r.fit())
        calls = []

        def stop_once(info):
            calls.append(info["kind"])
            return len(calls) == 9  # a step in the second epoch

        def drive(run):
            run.set_progress(stop_once)
            with self.assertRaises(sl.Error) as cm:
                run.fit()
            self.assertEqual(cm.exception.status, sl.E_CANCELLED)
            self.assertEqual(run.get("epochs_done"), 1)
            run.fit()

        self.assertEqual(self.run_bytes(drive), whole)
        self.assertIn("epoch", calls)

    def test_callback_exception_propagates(self):
        def boom(info):
            raise KeyError("from the callback")

        def drive(run):
            run.set_progress(boom)
            with self.assertRaises(KeyError):
                run.fit()
            run.set_progress(None)
            run.fit()  # the stopped run continues

        self.assertEqual(self.run_bytes(drive), self.run_bytes(lambda r: r.fit()))

    def test_transform_sees_every_position(self):
        seen = []

        def record(x, label, seed, epoch, position):
            seen.append((epoch, position))
            self.assertEqual(seed, 5)
            self.assertEqual(len(x), 8)

        self.run_bytes(lambda r: r.fit(), transform=record)
        self.assertEqual(sorted(seen), [(e, p) for e in (1, 2, 3) for p in range(96)])

    def test_checkpoint_resume(self):
        whole = self.run_bytes(lambda r: r.fit())
        ck = os.path.join(self.dir, "r.ck")
        self.run_bytes(lambda r: r.fit(), epochs=2, checkpoint=ck)

        def resume(run):
            run.resume(ck)
            self.assertEqual(len(run.history), 2)
            run.fit()

        self.assertEqual(self.run_bytes(resume), whole)

    def test_refused(self):
        m = self.model()
        with self.assertRaises(sl.Error) as cm:
            sl.Run(m, self.train, self.test, distill_alpha=float("nan"))
        self.assertEqual(cm.exception.status, sl.E_OUT_OF_RANGE)
        with self.assertRaises(ValueError):  # rows must be num_inputs wide
            sl.Run(m, self.train, ([row + [0.0] for row in self.test[0]], self.test[1]))
        m.close()


if __name__ == "__main__":
    unittest.main()
