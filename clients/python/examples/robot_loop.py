#!/usr/bin/env python3
"""A robot control loop in Python against the Split edge node's ``act`` API (pyzmq only).

The same loop as Split's Swift control client (Sources/Split/Control), for robot stacks written
in Python: a simulated 2-D point-mass arm-tip at 30 Hz tracks a jumping target; action chunks
are requested without blocking the loop, the delay is estimated online (90th percentile of
recent latencies, in control steps), and in ``future-state`` mode the state is rolled forward
through the actions that will run during that delay (position control: the last buffered
command) and the chunk is spliced in at the step it was predicted for (VLASH). A request
unanswered after ``--timeout`` seconds is given up: the loop never waits for the network, keeps
executing its buffer and reports degraded steps.

    edge-node serve --policy models/split-robot-policy.gguf --policy-split-layer 2 \\
        --policy-cloud tcp://127.0.0.1:5556 --insecure --listen ipc:///tmp/split-edge.sock
    python3 clients/python/examples/robot_loop.py --connect ipc:///tmp/split-edge.sock --mode future-state

Replace ``PointMass`` with your robot's state reading and command writing.
"""
import argparse
import json
import math
import random
import time

import zmq

DT, TAU, VMAX = 1 / 30, 0.1, 1.2


class PointMass:
    """The simulated robot (same dynamics as Split's PointMassRobot)."""

    def __init__(self):
        self.p, self.v = [0.0, 0.0], [0.0, 0.0]

    def step(self, c):
        d = [(c[0] - self.p[0]) / TAU, (c[1] - self.p[1]) / TAU]
        s = math.hypot(*d)
        if s > VMAX:
            d = [d[0] * VMAX / s, d[1] * VMAX / s]
        self.v = d
        self.p = [max(-1, min(1, self.p[i] + d[i] * DT)) for i in range(2)]


def target_at(step, rng_state):
    """A target that drifts and jumps somewhere new every ~3 s."""
    if step >= rng_state["next"]:
        rng_state["base"] = [rng_state["rng"].uniform(-0.6, 0.6) for _ in range(2)]
        rng_state["next"] = step + rng_state["rng"].randint(75, 105)
        rng_state["jumps"].append(step)
    t = step * DT
    b = rng_state["base"]
    return [b[0] + 0.12 * math.sin(2 * math.pi * t / 4.1), b[1] + 0.12 * math.sin(2 * math.pi * t / 5.3)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", default="ipc:///tmp/split-edge.sock")
    ap.add_argument("--mode", choices=["sync", "naive", "future-state"], default="future-state")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--horizon", type=int, default=16)
    ap.add_argument("--every", type=int, default=4, help="async: steps between requests")
    ap.add_argument("--timeout", type=float, default=1.0)
    args = ap.parse_args()

    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(args.connect)

    robot = PointMass()
    world = {"rng": random.Random(1), "next": 0, "base": [0, 0], "jumps": []}
    buffer = {}          # step -> (command, observed step)
    in_flight = {}       # id -> (sent time, observed step, start step)
    latencies = []       # recent latencies in steps
    last_cmd, last_request, newest_obs = None, None, -1
    errors, reactions, missed, degraded_steps, degraded, idle = [], [], 0, 0, False, 0
    pending_jumps = []
    steps = int(args.seconds / DT)
    start = time.monotonic()
    for step in range(steps):
        deadline = start + step * DT
        now = time.monotonic()
        if now < deadline:
            time.sleep(deadline - now)
            now = time.monotonic()
        if now > deadline + DT / 2:
            missed += 1
        # Collect answers (never block).
        while True:
            try:
                reply = json.loads(sock.recv(zmq.NOBLOCK))
            except zmq.Again:
                break
            rid = int(reply.get("id") or -1)
            if rid not in in_flight:
                continue
            sent, observed, start_step = in_flight.pop(rid)
            if reply["type"] == "error":
                degraded = True
                continue
            degraded = False
            latencies = (latencies + [(now - sent) / DT])[-32:]
            if observed <= newest_obs:
                continue
            newest_obs = observed
            first = step if args.mode == "sync" else start_step
            for i, a in enumerate(reply["actions"]):
                if first + i >= step:
                    buffer[first + i] = (a, observed)
        for rid, (sent, _, _) in list(in_flight.items()):
            if now - sent > args.timeout:
                del in_flight[rid]
                degraded = True
        d = math.ceil(sorted(latencies)[int(0.9 * (len(latencies) - 1) + 0.999)]) if latencies else 4
        target = target_at(step, world)
        if world["jumps"] and world["jumps"][-1] == step:
            pending_jumps.append(step)
        remaining = 0
        while step + remaining in buffer:
            remaining += 1
        if args.mode == "sync":
            due = not in_flight and remaining == 0
        else:
            due = not in_flight and (last_request is None or step - last_request >= args.every or remaining <= d)
        if due:
            state = robot.p + robot.v
            start_step = step
            if args.mode == "future-state":
                # Roll forward through the commands that will run during the delay.
                cmds, prev = [], last_cmd or robot.p
                for s in range(step, step + d):
                    prev = buffer.get(s, (prev, 0))[0]
                    cmds.append(prev)
                if cmds:
                    before = cmds[-2] if len(cmds) > 1 else robot.p
                    state = cmds[-1] + [(cmds[-1][0] - before[0]) / DT, (cmds[-1][1] - before[1]) / DT]
                start_step = step + d
            rid = step + 1
            msg = {"type": "act", "id": str(rid), "state": state, "target": target, "horizon": args.horizon}
            try:
                sock.send(json.dumps(msg).encode(), zmq.NOBLOCK)
                in_flight[rid] = (now, step, start_step)
                last_request = step
            except zmq.Again:
                degraded = True
        entry = buffer.pop(step, None)
        if entry is None:
            idle += 1
            cmd, observed = last_cmd or robot.p, None
        else:
            cmd, observed = entry
        last_cmd = cmd
        if observed is not None:
            for j in [j for j in pending_jumps if observed >= j]:
                reactions.append(step - j)
                pending_jumps.remove(j)
        degraded_steps += degraded
        errors.append(math.hypot(robot.p[0] - target[0], robot.p[1] - target[1]))
        robot.step(cmd)
    errors.sort()
    print(json.dumps({
        "mode": args.mode, "steps": steps, "mean_tracking_error": round(sum(errors) / len(errors), 4),
        "p95_tracking_error": round(errors[int(0.95 * len(errors))], 4),
        "mean_reaction_steps": round(sum(reactions) / len(reactions), 1) if reactions else None,
        "idle_fraction": round(idle / steps, 3), "delay_estimate_steps": d,
        "missed_periods": missed, "degraded_steps": degraded_steps}))


if __name__ == "__main__":
    main()
