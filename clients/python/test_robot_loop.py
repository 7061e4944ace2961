"""Tests of examples/robot_loop.py's clock-free parts against the Swift control client's behaviour
(Sources/Split/Control; the cases mirror Tests/SplitTests/ChunkCycleTests, AdaptiveOverlapTests,
ArmPathTests and RobotControlTests). No network.

    python3 -m unittest test_robot_loop
"""

import argparse
import json
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "examples"))

from robot_loop import (ROBOTS, ChunkCycle, DelayEstimator, JumpingTarget, executed_actions, parse_action_steps,  # noqa: E402
                        parse_overlap, parse_reply, quantile, reactions, roll_forward)

ARM = ROBOTS["arm"]
REST = (0.0, 0.0, 0.0, 0.0)
TARGET = (0.6, 0.0)
# A chunk of 32 commanded positions, each distinct, so a test can tell which ran when.
CHUNK = [(0.01 * i, 0.02 * i) for i in range(32)]


def cycle_with_first_chunk(mode, overlap, arrival=0, **knobs):
    """A cycle with H = 32 whose first chunk (asked for at step 0) arrives at ``arrival``."""
    cycle = ChunkCycle(mode, ARM, horizon=32, overlap=overlap, **knobs)
    first = cycle.plan(0, REST, TARGET)
    assert first is not None and first["start"] == 0
    cycle.receive(CHUNK, first["id"], arrival, float(arrival))
    return cycle


def next_request(cycle, start, state=REST):
    """The first step from ``start`` on at which ``cycle`` asks for a chunk (executing meanwhile)."""
    for step in range(start, start + 64):
        request = cycle.plan(step, state, TARGET)
        if request is not None:
            return step, request
        cycle.execute(step, state)
    return None


class RollForwardTests(unittest.TestCase):
    def test_roll_forward_gives_the_swift_dynamics_roll_forward_numbers(self):
        # DynamicsRollForward(robot:).roll over PointMassRobot.arm and PointMassRobot(), printed
        # with %.17g by Sources/Split/Control/PointMassRobot.swift's step compiled with swiftc.
        commands = [(0.5, 0.2), (0.5, 0.2), (0.6, 0.25), (-0.3, 0.9), (0.95, -1.5), (0.95, -1.5)]
        start = (0.1, -0.2, 0.3, 0.0)
        self.assertEqual(roll_forward(ARM, start, commands),
                         (0.19978984606074379, -0.12730455472346081, 0.49362167151703434, 0.19376816190082111))
        self.assertEqual(roll_forward(ROBOTS["point-mass"], start, commands),
                         (0.20778832023043015, -0.15089398477393501, 0.5784241791012219, -1.0513921575849219))
        # At the arena's edge the position is clamped and the velocity kept.
        self.assertEqual(roll_forward(ARM, (0.98, 0.0, 1.2, 0.0), [(1.5, 0.0), (1.5, 0.0)]), (1.0, 0.0, 1.2, 0.0))
        self.assertEqual(roll_forward(ARM, start, []), start)

    def test_the_arm_changes_velocity_by_at_most_its_acceleration_limit_and_reaches_the_speed_limit(self):
        state, fastest = REST, 0.0
        for _ in range(40):
            following = ARM.step(state, (0.9, 0.0))
            self.assertLessEqual(math.dist(following[2:], state[2:]), 6.0 / 30 + 1e-12)
            fastest = max(fastest, math.hypot(*following[2:]))
            state = following
        self.assertAlmostEqual(fastest, 1.2, places=9)
        # Without the limit the velocity follows the lag at once.
        self.assertAlmostEqual(ROBOTS["point-mass"].step(REST, (0.9, 0.0))[2], 1.2)


class ThinningTests(unittest.TestCase):
    def test_quant_ratio_runs_actions_r_minus_1_then_every_rth(self):
        self.assertEqual(executed_actions(CHUNK, None, 2), CHUNK[1::2])
        self.assertEqual(len(executed_actions(CHUNK, None, 2)), 16)
        self.assertEqual(executed_actions(CHUNK, None, 3)[:3], [CHUNK[2], CHUNK[5], CHUNK[8]])
        self.assertEqual(executed_actions(CHUNK), CHUNK)

    def test_action_steps_are_counted_before_the_thinning(self):
        self.assertEqual(executed_actions(CHUNK, 8), CHUNK[:8])
        self.assertEqual(executed_actions(CHUNK, 10, 3), [CHUNK[2], CHUNK[5], CHUNK[8]])
        self.assertEqual(executed_actions(CHUNK, 1, 2), [])

    def test_adaptive_action_steps_run_half_the_chunk_or_the_delay_periods_when_longer(self):
        # The numbers of ChunkActionStepsTests.adaptiveCount (H = 32).
        def adaptive(r, d):
            delay = DelayEstimator(initial_steps=d)
            return ChunkCycle("future-state", ARM, 32, quant_ratio=r, action_steps="adaptive", delay=delay).chunk_actions()
        self.assertEqual([adaptive(1, 4), adaptive(1, 8), adaptive(1, 20)], [16, 16, 20])
        self.assertEqual([adaptive(2, 8), adaptive(2, 12), adaptive(2, 20)], [16, 24, 32])
        self.assertEqual(ChunkCycle("sync", ARM, 32, action_steps="adaptive", delay=DelayEstimator(initial_steps=20)).chunk_actions(),
                         32, "sync runs whole chunks")
        self.assertEqual(ChunkCycle("naive", ARM, 32, action_steps=40).chunk_actions(), 32)
        self.assertEqual(ChunkCycle("naive", ARM, 32, action_steps=None).chunk_actions(), 32)

    def test_the_overlap_is_capped_at_the_actions_run_from_one_chunk(self):
        self.assertEqual(ChunkCycle("naive", ARM, 32, overlap=10, quant_ratio=4).overlap_steps(), 8)
        self.assertEqual(ChunkCycle("naive", ARM, 32, overlap=10, action_steps=8, quant_ratio=2).overlap_steps(), 4)
        late = ChunkCycle("future-state", ARM, 32, overlap=None, action_steps=6)
        late.delay.record(12.0)
        self.assertEqual(late.overlap_steps(), 6)


class ChunkCycleTests(unittest.TestCase):
    def test_the_next_chunk_is_asked_for_when_overlap_actions_are_left_and_starts_where_they_end(self):
        cycle = cycle_with_first_chunk("future-state", overlap=4)
        state = REST
        for step in range(28):
            self.assertIsNone(cycle.plan(step, state, TARGET), f"asked early at step {step}")
            state = ARM.step(state, cycle.execute(step, state)[0])
        request = cycle.plan(28, state, TARGET)
        self.assertEqual(request["start"], 32)
        # Future state: the measured state run through the 4 actions left (steps 28 … 31).
        self.assertEqual(tuple(request["state"]), roll_forward(ARM, state, CHUNK[28:32]))
        self.assertIsNone(cycle.plan(29, state, TARGET), "a second request while one is in flight")

    def test_naive_conditions_on_the_state_now_and_future_state_on_the_state_where_the_buffer_ends(self):
        naive = cycle_with_first_chunk("naive", overlap=8)
        future = cycle_with_first_chunk("future-state", overlap=8)
        measured = (0.3, 0.1, 1.0, 0.0)
        for step in range(24):
            naive.execute(step, measured)
            future.execute(step, measured)
        a, b = naive.plan(24, measured, TARGET), future.plan(24, measured, TARGET)
        self.assertEqual(tuple(a["state"]), measured)
        self.assertEqual((a["start"], b["start"]), (32, 32))
        self.assertNotEqual(tuple(b["state"]), measured)

    def test_a_chunk_that_arrives_after_the_buffer_ran_dry_starts_on_arrival_and_the_robot_held_meanwhile(self):
        cycle = cycle_with_first_chunk("future-state", overlap=4)
        for step in range(28):
            cycle.execute(step, REST)
        request = cycle.plan(28, REST, TARGET)
        for step in range(28, 35):
            cycle.execute(step, REST)
        self.assertEqual(cycle.execute(35, REST), (CHUNK[31], True, None))
        second = [(0.01 * i, 1.0) for i in range(32)]
        self.assertTrue(cycle.receive(second, request["id"], 36, 8.0))
        self.assertEqual(cycle.execute(36, REST), (second[0], False, 28))
        self.assertEqual(cycle.remaining(37), 31)

    def test_with_quant_ratio_2_a_chunk_of_32_runs_actions_1_3_5_and_the_cycle_is_16_periods(self):
        cycle = cycle_with_first_chunk("future-state", overlap=4, quant_ratio=2)
        self.assertEqual(cycle.remaining(0), 16)
        for step in range(12):
            self.assertIsNone(cycle.plan(step, REST, TARGET), f"asked early at step {step}")
            self.assertEqual(cycle.execute(step, REST)[0], CHUNK[2 * step + 1])
        self.assertEqual(cycle.plan(12, REST, TARGET)["start"], 16)

    def test_with_action_steps_8_only_the_first_8_actions_run(self):
        cycle = cycle_with_first_chunk("naive", overlap=4, action_steps=8)
        self.assertEqual(cycle.remaining(0), 8)
        step, request = next_request(cycle, 0)
        self.assertEqual((step, request["start"]), (4, 8))

    def test_future_state_rolls_through_a_hold_of_the_last_command_when_the_delay_estimate_is_longer(self):
        cycle = cycle_with_first_chunk("future-state", overlap=4, arrival=10)
        for step in range(10, 38):
            cycle.execute(step, REST)
        request = cycle.plan(38, REST, TARGET)
        # Estimated delay 10: 4 buffered actions, then 6 periods holding the last one.
        self.assertEqual(request["start"], 48)
        self.assertEqual(tuple(request["state"]), roll_forward(ARM, REST, CHUNK[28:32] + [CHUNK[31]] * 6))

    def test_the_adaptive_overlap_asks_as_many_actions_before_the_buffer_ends_as_the_last_chunk_took(self):
        adaptive = cycle_with_first_chunk("future-state", overlap=None, arrival=12)
        step, request = next_request(adaptive, 12)
        self.assertEqual((step, request["start"]), (32, 44))
        # A fixed 4 waits until 4 are left.
        self.assertEqual(next_request(cycle_with_first_chunk("future-state", overlap=4, arrival=12), 12)[0], 40)
        # Never below VLASH's 4: a 2-step delay still asks with 4 left.
        self.assertEqual(next_request(cycle_with_first_chunk("future-state", overlap=None, arrival=2), 2)[0], 30)

    def test_sync_holds_while_a_chunk_is_inferred_and_runs_it_from_its_arrival(self):
        cycle = ChunkCycle("sync", ARM, 32)
        request = cycle.plan(0, REST, TARGET)
        self.assertEqual(request["start"], 0)
        for step in range(5):
            self.assertEqual(cycle.execute(step, REST), ((0.0, 0.0), True, None))
            self.assertIsNone(cycle.plan(step + 1, REST, TARGET))
        cycle.receive(CHUNK, request["id"], 5, 5.0)
        self.assertEqual(cycle.remaining(5), 32)
        self.assertIsNone(cycle.plan(36, REST, TARGET))
        self.assertEqual(cycle.plan(37, REST, TARGET)["start"], 37)

    def test_a_failed_request_degrades_the_loop_until_a_chunk_arrives_and_unknown_replies_are_dropped(self):
        cycle = ChunkCycle("future-state", ARM, 32, overlap=4)
        first = cycle.plan(0, REST, TARGET)
        cycle.fail(first["id"])
        self.assertTrue(cycle.degraded)
        self.assertFalse(cycle.receive(CHUNK, first["id"], 3, 3.0), "an answer after the timeout")
        second = cycle.plan(4, REST, TARGET)
        self.assertTrue(cycle.receive(CHUNK, second["id"], 6, 2.0))
        self.assertFalse(cycle.degraded)
        self.assertFalse(cycle.receive(CHUNK, 99, 7, 1.0))


class DelayAndMetricsTests(unittest.TestCase):
    def test_the_delay_estimate_is_a_high_quantile_of_recent_latencies_rounded_up(self):
        estimator = DelayEstimator(quantile=0.9, window=10, initial_steps=3)
        self.assertEqual(estimator.steps, 3)
        for latency in [2.0, 2.2, 2.1, 2.0, 7.5, 2.3, 2.0, 2.1, 2.4, 2.2]:
            estimator.record(latency)
        self.assertEqual(estimator.steps, 8)
        for _ in range(10):
            estimator.record(2.5)
        self.assertEqual(estimator.steps, 3)
        for _ in range(10):
            estimator.record(2.0004)  # a wall clock's "2 periods"
        self.assertEqual(estimator.steps, 2)
        estimator.record(float("nan"))
        self.assertEqual(len(estimator.samples), 10)

    def test_a_reaction_counts_steps_from_a_jump_to_the_first_action_observed_at_or_after_it(self):
        observed = [0, 0, 0, 0, 0, 0, None, None, 4, 4, 4, 6, 6, 6]
        self.assertEqual(reactions(observed, [0, 3, 6]), [5, 5])
        self.assertEqual(reactions([0, 0, 0, 0, 0], [2]), [], "a jump nothing answered is left out")
        self.assertEqual(reactions([0, 2, 2], [1]), [0])

    def test_quantiles_are_nearest_rank(self):
        self.assertEqual(quantile([4, 1, 3, 2], 0.5), 2)
        self.assertEqual(quantile([4, 1, 3, 2], 0.9), 4)
        self.assertEqual(quantile(list(range(1, 11)), 0.9), 9)
        self.assertEqual(quantile([], 0.5), 0)

    def test_the_target_jumps_every_75_to_105_steps_by_0_4_to_1_and_stays_in_the_arena(self):
        world = JumpingTarget(seed=3)
        jumps, bases = [], []
        for step in range(900):
            target, jumped = world.advance(step)
            self.assertTrue(all(abs(x) <= 0.95 for x in target))
            if jumped:
                jumps.append(step)
                bases.append(world.base)
        self.assertEqual(jumps[0], 0)
        self.assertTrue(all(75 <= b - a <= 105 for a, b in zip(jumps, jumps[1:])))
        self.assertTrue(all(0.4 <= math.dist(a, b) <= 1.0 for a, b in zip(bases, bases[1:])))


class WireTests(unittest.TestCase):
    def test_replies_are_parsed_and_bad_ones_never_crash_the_loop(self):
        good = {"type": "actions", "id": "7", "actions": [[0.1, 0.2], [0.3, 0.4]], "strategy": "split(k=2,f16)"}
        self.assertEqual(parse_reply(json.dumps(good).encode()), (7, [(0.1, 0.2), (0.3, 0.4)], "split(k=2,f16)"))
        self.assertEqual(parse_reply(b'{"type": "error", "id": "8", "code": "cloud_unavailable"}'), (8, None, None))
        malformed = dict(good, actions=[[0.1], [0.3, 0.4]])
        self.assertEqual(parse_reply(json.dumps(malformed).encode())[1], None)
        self.assertEqual(parse_reply(json.dumps(dict(good, actions=[])).encode())[1], None)
        for frame in [b"not json", b"\xff\xfe", b"[1, 2]", b'{"type": "actions"}', b'{"type": "token", "id": "3"}',
                      b'{"type": "actions", "id": "x"}']:
            self.assertIsNone(parse_reply(frame), frame)

    def test_the_overlap_is_a_number_of_steps_or_adaptive(self):
        self.assertIsNone(parse_overlap("adaptive"))
        self.assertEqual(parse_overlap("4"), 4)
        self.assertEqual(parse_overlap("0"), 0)
        for text in ["-1", "four", "adaptive>=x"]:
            with self.assertRaises(argparse.ArgumentTypeError):
                parse_overlap(text)

    def test_action_steps_are_a_number_of_actions_or_adaptive(self):
        self.assertEqual(parse_action_steps("adaptive"), "adaptive")
        self.assertEqual(parse_action_steps("16"), 16)
        for text in ["0", "-3", "half"]:
            with self.assertRaises(argparse.ArgumentTypeError):
                parse_action_steps(text)


if __name__ == "__main__":
    unittest.main()
