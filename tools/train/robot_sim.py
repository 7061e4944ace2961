"""The point-mass robot and its scripted expert, exactly as Sources/Split/Control implements them.

Kept in step with PointMassSimulator.swift / ScriptedExpert.swift / PolicyInput.swift: the policy
trained here on this dynamics and expert is run by the Swift runtime on the Swift simulator.

Robot: 2-D point mass in [-1, 1]^2, position-controlled. Each 1/30 s step the actuator moves the
position toward the commanded position with a first-order lag (time constant TAU) under a speed
limit V_MAX and, optionally, an acceleration limit a_max (the arm, A_MAX):
  v' = clamp_norm((c - p) / TAU, V_MAX);  v += clamp_norm(v' - v, a_max * DT);  p += v * DT.
State = (px, py, vx, vy).

Expert (the demonstrator): a chunk of H commanded positions along the path from p to the observed
target g and on to the next waypoint n (n = g: stop at g), advancing at the demonstration pace
and leading the robot by what it travels in TAU:  s_i = pace * DT * (i + 1) + pace * TAU,
c_i = the point at path length min(s_i, |g - p| + |n - g|). With pace = V_MAX and n = g this is
the first policy's expert (reach at full speed and stop).
"""
import numpy as np

DT = 1.0 / 30.0
TAU = 0.1
V_MAX = 1.2
# The arm (PointMassRobot.arm): acceleration limit, and the teleoperated demonstrations' pace, a
# third of the speed limit (VLASH's action_quant_ratio 2 and 3 execute them at 2/3 and 3/3).
A_MAX = 6.0
DEMO_PACE = 0.4
ARENA = 1.0
STATE_DIM = 4
ACTION_DIM = 2
TOKEN_FEATURES = 8
TOKENS = 2


def clamp_norm(x, limit):
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x * np.where(norm > limit, limit / np.maximum(norm, 1e-12), 1.0)


def step(p, v, c, a_max=np.inf):
    """One control period. p, v, c: (..., 2) arrays. Returns new (p, v)."""
    desired = clamp_norm((c - p) / TAU, V_MAX)
    v = desired if np.isinf(a_max) else v + clamp_norm(desired - v, a_max * DT)
    p = np.clip(p + v * DT, -ARENA, ARENA)
    return p, v


def expert_chunk(p, g, horizon, n=None, pace=V_MAX):
    """(..., 2) positions, targets and next waypoints (None: stop at g) -> (..., horizon, 2)
    commanded positions."""
    n = g if n is None else n

    def unit_and_length(delta):
        dist = np.linalg.norm(delta, axis=-1, keepdims=True)
        return np.where(dist > 1e-9, delta / np.maximum(dist, 1e-12), 0.0), dist

    u1, l1 = unit_and_length(g - p)
    u2, l2 = unit_and_length(n - g)
    reach = pace * DT * (np.arange(horizon) + 1) + pace * TAU  # (H,)
    s = np.minimum(reach[:, None], (l1 + l2)[..., None, :])  # (..., H, 1)
    first = p[..., None, :] + u1[..., None, :] * np.minimum(s, l1[..., None, :])
    second = g[..., None, :] + u2[..., None, :] * np.maximum(s - l1[..., None, :], 0.0)
    return np.where(s <= l1[..., None, :], first, second)


def policy_tokens(p, v, g, n=None):
    """The policy's input: a state token and a target token of TOKEN_FEATURES each.

    state:  [px, py, vx, vy, 0, 0, 1, 0]
    target: [gx - px, gy - py, nx - gx, ny - gy, gx, gy, 0, 1]   (n = g: no next waypoint)
    """
    x = np.zeros(p.shape[:-1] + (TOKENS, TOKEN_FEATURES), dtype=np.float32)
    x[..., 0, 0:2] = p
    x[..., 0, 2:4] = v
    x[..., 0, 6] = 1
    x[..., 1, 0:2] = g - p
    if n is not None:
        x[..., 1, 2:4] = n - g
    x[..., 1, 4:6] = g
    x[..., 1, 7] = 1
    return x
