#!/usr/bin/env python3
"""A robot control loop in Python against the Split edge node's ``act`` API (pyzmq only).

The same loop as Split's Swift control client (Sources/Split/Control, ``split-bench robot-loop``),
for robot stacks written in Python: a simulated arm tip (``PointMassRobot.arm``: a position
actuator with a 0.1 s lag, speed limit 1.2 and acceleration limit 6 units/s²) at 30 Hz tracks a
target that drifts and jumps, driven by the arm policy's chunks of H = 32 commanded positions.

It runs VLASH's chunk cycle: the next chunk is asked for when ``--overlap`` buffered actions are
left (a number, or ``adaptive``: max(4, d̂) with d̂ the 0.9 quantile of the last 32 measured
latencies in control steps; never more than the actions run from one chunk), one request in
flight, and the chunk starts where the buffer ends (or on arrival, if the buffer ran dry first).

- ``future-state`` (VLASH) conditions the policy on the state the robot will be in there: the
  measured state rolled through the robot's dynamics over the buffered actions (and over a hold
  of the last command while the delay estimate is longer), as DynamicsRollForward does;
- ``naive`` conditions it on the state now (stale by the time the chunk runs);
- ``sync`` holds the robot while each chunk is inferred.

``--action-steps N`` runs the first N actions of each chunk (VLASH's ``n_action_steps``; default
``adaptive``: half the chunk, or as many as the delay estimate's periods when longer, whole chunks
in sync, as the Swift client runs) and
``--quant-ratio r`` of those actions r−1, 2r−1, … one per period (VLASH's
``action_quant_ratio``: the chunk is run r times faster). A request unanswered after
``--timeout`` seconds is given up: the loop never waits for the network, keeps executing its
buffer (then holds) and reports degraded steps. At the end it prints a JSON summary.

Start a cloud and an edge serving the arm policy split at layer 2 (README "Robot control"), then:

    cloud-node serve --model models/split-robot-policy-arm.gguf --bind tcp://127.0.0.1:5557 --insecure &
    edge-node serve --policy models/split-robot-policy-arm.gguf --policy-split-layer 2 \\
        --policy-cloud tcp://127.0.0.1:5557 --insecure --listen ipc:///tmp/split-edge.sock --http-port 0 &
    python3 clients/python/examples/robot_loop.py --connect ipc:///tmp/split-edge.sock --mode future-state

Each ``act`` request names the mode the loop runs as its ``strategy`` (an edge keeping a
``--history`` records it), and ``--quality`` if given (an edge refuses a named mode that does not
meet it: async chunks are not exact, nor is sync over an f16 link). The target is sent as
``[x, y]``: the arm policy also takes ``[x, y, next x, next y]`` on a path, but a tracking target
has no next waypoint. Replace ``PointMassRobot`` with your robot's
state reading and command writing, and its dynamics model with yours.

Differences from the Swift client: flags it would clamp (``--action-steps`` above the horizon,
``--quant-ratio`` above the actions run) are refused here; ``--overlap`` has no ``adaptive>=N``
form (the minimum is VLASH's 4); chunks longer than ``--horizon`` are cut to it.
"""
import argparse
import json
import math
import random
import time

import zmq

PERIOD_SECONDS = 1.0 / 30.0
# The loop's mode names, and the control strategy each names to the edge.
STRATEGIES = {"sync": "sync", "naive": "naive-async", "future-state": "future-state-async"}


def clamped_length(x, y, limit):
    """(x, y) scaled down to length ``limit`` when longer."""
    size = math.sqrt(x * x + y * y)
    return (x * (limit / size), y * (limit / size)) if size > limit else (x, y)


class PointMassRobot:
    """The simulated robot, exactly as Split's PointMassRobot (and tools/train/robot_sim.py): the
    position closes on the command at (command − position)/lag under a speed limit and, on the
    arm, an acceleration limit. A state is ``(px, py, vx, vy)``, a command ``(x, y)``."""

    def __init__(self, max_acceleration=math.inf, lag_seconds=0.1, max_speed=1.2, arena_half_width=1.0,
                 period_seconds=PERIOD_SECONDS):
        self.max_acceleration = max_acceleration
        self.lag_seconds = lag_seconds
        self.max_speed = max_speed
        self.arena_half_width = arena_half_width
        self.period_seconds = period_seconds

    def step(self, state, command):
        """The state one control period after commanding ``command`` from ``state``."""
        px, py, vx, vy = state
        wx, wy = clamped_length((command[0] - px) / self.lag_seconds, (command[1] - py) / self.lag_seconds, self.max_speed)
        if math.isfinite(self.max_acceleration):
            dx, dy = clamped_length(wx - vx, wy - vy, self.max_acceleration * self.period_seconds)
            wx, wy = vx + dx, vy + dy
        bound = self.arena_half_width
        return (min(max(px + wx * self.period_seconds, -bound), bound),
                min(max(py + wy * self.period_seconds, -bound), bound), wx, wy)


ROBOTS = {"arm": PointMassRobot(max_acceleration=6.0), "point-mass": PointMassRobot()}


def roll_forward(robot, state, commands):
    """The state after ``robot`` executes ``commands`` in order from ``state`` (DynamicsRollForward)."""
    for command in commands:
        state = robot.step(state, command)
    return state


def executed_actions(chunk, action_steps=None, quant_ratio=1):
    """The actions of ``chunk`` the robot runs, one per period: the first ``action_steps`` (VLASH's
    ``n_action_steps``; None: all), of those every ``quant_ratio``-th, from action r−1 on."""
    return list(chunk[:action_steps])[quant_ratio - 1::quant_ratio]


def parse_overlap(text):
    """``--overlap``: a whole number of steps (0 or more) or "adaptive" (returned as None)."""
    if text.strip() == "adaptive":
        return None
    try:
        steps = int(text)
    except ValueError:
        steps = -1
    if steps < 0:
        raise argparse.ArgumentTypeError(f"overlap '{text}' is not a number of steps (0 or more) or 'adaptive'")
    return steps


def parse_action_steps(text):
    """``--action-steps``: a whole number of actions (1 or more) or "adaptive"."""
    if text.strip() == "adaptive":
        return "adaptive"
    try:
        actions = int(text)
    except ValueError:
        actions = 0
    if actions < 1:
        raise argparse.ArgumentTypeError(f"action steps '{text}' is not a number of actions (1 or more) or 'adaptive'")
    return actions


class DelayEstimator:
    """The inference delay in whole control steps: a high quantile of the last ``window``
    measured latencies (in steps, fractional on a wall clock), rounded up, as Split's DelayEstimator."""

    def __init__(self, quantile=0.9, window=32, initial_steps=4):
        self.quantile, self.window, self.initial_steps = quantile, window, initial_steps
        self.samples = []

    def record(self, steps):
        """Records one latency; a negative or non-finite one is ignored."""
        if math.isfinite(steps) and steps >= 0:
            self.samples = (self.samples + [steps])[-self.window:]

    @property
    def steps(self):
        """The delay to plan for (the initial guess before anything was measured)."""
        if not self.samples:
            return self.initial_steps
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, math.ceil(self.quantile * (len(ordered) - 1)))
        # A loop that sees answers only at its period measures "2 periods" as 2.0001: 5% of a
        # period is not worth planning a whole step later for.
        return max(0, math.ceil(ordered[index] - 0.05))


class ChunkCycle:
    """The control client's logic without clock or socket (Split's ControlSession in VLASH's
    cycle): each step ``plan`` says whether a chunk request is due and for which state and start
    step; ``receive`` splices a reply into the action buffer; ``execute`` hands out the step's action."""

    def __init__(self, mode, robot, horizon=32, overlap=None, quant_ratio=1, action_steps=None, delay=None):
        if mode not in STRATEGIES:
            raise ValueError(f"mode must be one of {', '.join(STRATEGIES)}, not {mode}")
        self.mode, self.robot, self.horizon = mode, robot, horizon
        self.overlap, self.quant_ratio, self.action_steps = overlap, quant_ratio, action_steps
        self.delay = delay or DelayEstimator()
        self.buffer = {}       # step -> (command, step of the observation it came from)
        self.in_flight = {}    # request id -> (observed at step, start step)
        self.degraded = False  # a request failed, and no chunk came since
        self.next_id = 1
        self.last_command = None

    def remaining(self, step):
        """Buffered actions from ``step`` on without a gap."""
        count = 0
        while step + count in self.buffer:
            count += 1
        return count

    def chunk_actions(self):
        """The actions run from each chunk, before the thinning: the fixed count, all (None), or
        adaptive: half the chunk, or r·d̂ when the delay estimate's periods are more, whole chunks in
        sync (ChunkActionSteps)."""
        r = self.quant_ratio
        if self.action_steps == "adaptive" and self.mode == "sync":
            wanted = self.horizon  # sync runs whole chunks: each one costs a stall of d
        elif self.action_steps == "adaptive":
            wanted = r * max(self.horizon // (2 * r), self.delay.steps)
        else:
            wanted = self.action_steps or self.horizon
        return min(max(r, wanted), self.horizon)

    def overlap_steps(self):
        """Actions left when the next chunk is asked for: the fixed overlap, or adaptive max(4, d̂);
        at most the periods one chunk runs for (one request in flight cannot ask earlier)."""
        per_chunk = max(1, self.chunk_actions() // self.quant_ratio)
        wanted = max(4, self.delay.steps) if self.overlap is None else self.overlap
        return min(wanted, per_chunk)

    def plan(self, step, state, target):
        """The request to send at ``step`` (a dict of id, observed step, start step, state and
        target), or None when none is due."""
        remaining = self.remaining(step)
        if self.in_flight or remaining > (0 if self.mode == "sync" else self.overlap_steps()):
            return None
        conditioned, start = state, step
        if self.mode == "naive":
            start = step + remaining
        elif self.mode == "future-state":
            # The chunk starts where the buffer ends or, when the delay estimate is longer, on its
            # arrival, the robot holding its last command meanwhile (rolled through too); with
            # nothing buffered it starts on arrival from the state now.
            d = 0 if remaining == 0 else max(remaining, self.delay.steps)
            command = self.last_command or state[:2]
            commands = []
            for s in range(step, step + d):
                command = self.buffer.get(s, (command,))[0]
                commands.append(command)
            conditioned, start = roll_forward(self.robot, state, commands), step + d
        request = {"id": self.next_id, "observed": step, "start": start, "state": list(conditioned), "target": list(target)}
        self.in_flight[self.next_id] = (step, start)
        self.next_id += 1
        return request

    def receive(self, chunk, request_id, step, latency_steps):
        """A reply to ``request_id`` arrived during ``step`` (before its action is executed).
        Returns False when it is dropped (an unknown id: given up, or never asked)."""
        if request_id not in self.in_flight:
            return False
        observed, start = self.in_flight.pop(request_id)
        self.delay.record(latency_steps)
        self.degraded = False
        if not chunk:
            return False
        # Sync held during inference: the chunk starts now. Async: where the buffer ended, or on
        # arrival when it ran dry first (a late chunk loses none of its first actions).
        start = step if self.mode == "sync" else max(start, step)
        for i, command in enumerate(executed_actions(chunk, self.chunk_actions(), self.quant_ratio)):
            self.buffer[start + i] = (tuple(command), observed)
        return True

    def fail(self, request_id):
        """The request failed or timed out: the loop goes on with its buffer, degraded."""
        if self.in_flight.pop(request_id, None) is not None:
            self.degraded = True

    def execute(self, step, state):
        """The command for ``step``, whether the robot idles (holds its last command, nothing
        buffered), and the step of the observation the command came from (None when idle)."""
        entry = self.buffer.pop(step, None)
        if entry is None:
            self.last_command = self.last_command or tuple(state[:2])
            return self.last_command, True, None
        self.last_command = entry[0]
        return entry[0], False, entry[1]


class JumpingTarget:
    """A target that drifts and jumps somewhere 0.4–1.0 away every 75–105 steps (seeded), as the
    Swift benchmark's tracking task (TargetScenario.tracking) is made."""

    def __init__(self, seed=1):
        self.random = random.Random(seed)
        self.phases = (self.random.uniform(0, 6.28), self.random.uniform(0, 6.28))
        self.base, self.next_jump = None, 0

    def advance(self, step):
        """The target at ``step``, and whether it jumped there."""
        jumped = step >= self.next_jump
        if jumped:
            while True:
                base = (self.random.uniform(-0.6, 0.6), self.random.uniform(-0.6, 0.6))
                if self.base is None or 0.4 <= math.dist(base, self.base) <= 1.0:
                    break
            self.base, self.next_jump = base, step + self.random.randint(75, 105)
        t = step * PERIOD_SECONDS
        drift = (0.12 * math.sin(2 * math.pi * t / 4.1 + self.phases[0]), 0.12 * math.sin(2 * math.pi * t / 5.3 + self.phases[1]))
        return tuple(min(max(b + d, -0.95), 0.95) for b, d in zip(self.base, drift)), jumped


def reactions(observed, jumps):
    """Steps from each jump j > 0 to the first executed action observed at or after j
    (ControlMetrics.reactionSteps); ``observed[i]`` is step i's observation step (None: idle).
    A jump nothing responded to before the end is left out."""
    found = []
    for j in sorted(jumps):
        if j > 0:
            response = next((i for i in range(j, len(observed)) if (observed[i] if observed[i] is not None else -1) >= j), None)
            if response is not None:
                found.append(response - j)
    return found


def quantile(values, q):
    """The ``q`` quantile of ``values``, nearest rank (ControlMetrics.quantile); 0 for none."""
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def parse_reply(frame):
    """An edge reply frame as ``(id, chunk, strategy)``: ``chunk`` the commanded positions, or
    None for an error reply or malformed actions. None for a frame that is not an id'd
    ``actions`` or ``error`` reply (another client's, or garbage)."""
    try:
        reply = json.loads(frame)
        request_id = int(reply["id"])
        kind = reply["type"]
    except (ValueError, TypeError, KeyError):
        return None
    if kind == "error":
        return request_id, None, None
    if kind != "actions":
        return None
    actions = reply.get("actions")
    valid = isinstance(actions, list) and actions and all(
        isinstance(a, list) and len(a) == 2 and all(isinstance(x, (int, float)) and math.isfinite(x) for x in a) for a in actions)
    return request_id, [tuple(a) for a in actions] if valid else None, str(reply.get("strategy"))


def run(args):
    """Runs the loop for ``args.seconds`` against the edge and returns the summary."""
    socket = zmq.Context.instance().socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(args.connect)
    robot = ROBOTS[args.robot]
    cycle = ChunkCycle(args.mode, robot, args.horizon, args.overlap, args.quant_ratio, args.action_steps)
    world = JumpingTarget(args.seed)
    state = (0.0, 0.0, 0.0, 0.0)
    sent = {}  # request id -> send time
    errors, observed, jumps, latencies, served = [], [], [], [], {}
    requests = failures = missed = degraded_steps = idle_steps = 0
    steps = int(args.seconds / PERIOD_SECONDS)
    begin = time.monotonic()
    for step in range(steps):
        deadline = begin + step * PERIOD_SECONDS
        now = time.monotonic()
        if now < deadline:
            time.sleep(deadline - now)
            now = time.monotonic()
        if now > deadline + PERIOD_SECONDS / 2:
            missed += 1
        while True:  # collect answers, never blocking
            try:
                answer = parse_reply(socket.recv(zmq.NOBLOCK))
            except zmq.Again:
                break
            if answer is None or answer[0] not in sent:
                continue
            request_id, chunk, strategy = answer
            latency = (now - sent.pop(request_id)) / PERIOD_SECONDS
            if chunk is None:
                failures += 1
                cycle.fail(request_id)
                continue
            latencies.append(latency)
            served[strategy] = served.get(strategy, 0) + 1
            cycle.receive(chunk, request_id, step, latency)
        for request_id in [i for i, t in sent.items() if now - t > args.timeout]:
            del sent[request_id]
            failures += 1
            cycle.fail(request_id)
        target, jumped = world.advance(step)
        if jumped:
            jumps.append(step)
        request = cycle.plan(step, state, target)
        if request is not None:
            requests += 1
            message = {"type": "act", "id": str(request["id"]), "state": request["state"], "target": request["target"],
                       "horizon": args.horizon, "strategy": STRATEGIES[args.mode]}
            if args.quality:
                message["quality"] = args.quality
            try:
                socket.send(json.dumps(message).encode(), zmq.NOBLOCK)
                sent[request["id"]] = now
            except zmq.Again:
                failures += 1
                cycle.fail(request["id"])
        command, idle, observed_at = cycle.execute(step, state)
        idle_steps += idle
        degraded_steps += cycle.degraded
        observed.append(observed_at)
        errors.append(math.dist(state[:2], target))
        state = robot.step(state, command)
    socket.close()
    found = reactions(observed, jumps)
    latencies_ms = [latency * PERIOD_SECONDS * 1000 for latency in latencies]
    return {
        "mode": args.mode, "robot": args.robot, "horizon": args.horizon,
        "overlap": "adaptive" if args.overlap is None else args.overlap, "quant_ratio": args.quant_ratio,
        "action_steps": args.action_steps, "steps": steps,
        "mean_tracking_error": round(sum(errors) / len(errors), 4),
        "p95_tracking_error": round(quantile(errors, 0.95), 4),
        "reaction_p50_steps": quantile(found, 0.5) if found else None,
        "reaction_p90_steps": quantile(found, 0.9) if found else None, "jumps_answered": len(found),
        "idle_steps": idle_steps, "idle_fraction": round(idle_steps / steps, 3), "delay_estimate_steps": cycle.delay.steps,
        "requests": requests, "replies": len(latencies), "failed": failures,
        "latency_ms_mean": round(sum(latencies_ms) / len(latencies_ms), 1) if latencies_ms else None,
        "latency_ms_p95": round(quantile(latencies_ms, 0.95), 1) if latencies_ms else None,
        "missed_periods": missed, "degraded_steps": degraded_steps, "strategies": served,
    }


def positive(text):
    """An argparse type: a whole number of 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not 1 or more")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connect", default="ipc:///tmp/split-edge.sock", help="the edge node's client API endpoint")
    parser.add_argument("--mode", choices=list(STRATEGIES), default="future-state",
                        help="future-state (VLASH), naive (the state now) or sync (hold during inference)")
    parser.add_argument("--seconds", type=float, default=10, help="how long to run (at 30 Hz)")
    parser.add_argument("--robot", choices=list(ROBOTS), default="arm",
                        help="arm (split-robot-policy-arm's) or point-mass (the first policies', H = 16)")
    parser.add_argument("--horizon", type=positive, default=32, help="actions per chunk (the served policy's horizon)")
    parser.add_argument("--overlap", type=parse_overlap, default=None,
                        help="async: VLASH's inference_overlap_steps, N or 'adaptive' (max(4, measured delay); default)")
    parser.add_argument("--quant-ratio", type=positive, default=1,
                        help="VLASH's action_quant_ratio r: run actions r-1, 2r-1, ... one per period")
    parser.add_argument("--action-steps", type=parse_action_steps, default="adaptive",
                        help="VLASH's n_action_steps: run the first N actions of each chunk, or 'adaptive' (half the "
                             "chunk, or the measured delay's periods when longer; default)")
    parser.add_argument("--quality", help="quality every act request states (exact, agreement>=X); default none")
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds before an unanswered request counts as failed")
    parser.add_argument("--seed", type=int, default=1, help="the target's jumps and drift")
    args = parser.parse_args()
    if not args.seconds >= PERIOD_SECONDS:
        parser.error(f"--seconds {args.seconds} is shorter than one control period")
    fixed = args.action_steps if args.action_steps != "adaptive" else args.horizon
    if fixed > args.horizon:
        parser.error(f"--action-steps {args.action_steps} is more than the chunk's {args.horizon} actions")
    if args.quant_ratio > fixed:
        parser.error(f"--quant-ratio {args.quant_ratio} leaves no action of the {fixed} run per chunk")
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
