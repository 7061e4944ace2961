"""The point-mass robot and its scripted expert, exactly as Sources/Split/Control implements them.

Kept in step with PointMassSimulator.swift / ScriptedExpert.swift / PolicyInput.swift: the policy
trained here on this dynamics and expert is run by the Swift runtime on the Swift simulator.

Robot: 2-D point mass in [-1, 1]^2, position-controlled. Each 1/30 s step the actuator moves the
position toward the commanded position with a first-order lag (time constant TAU) under a speed
limit V_MAX:  v = clamp_norm((c - p) / TAU, V_MAX);  p += v * DT.  State = (px, py, vx, vy).

Expert: a chunk of H commanded positions toward the observed target g, each leading the robot by
what it can travel:  c_i = p + u * min(|g - p|, V_MAX * DT * (i + 1) + V_MAX * TAU).
"""
import numpy as np

DT = 1.0 / 30.0
TAU = 0.1
V_MAX = 1.2
ARENA = 1.0
STATE_DIM = 4
ACTION_DIM = 2
TOKEN_FEATURES = 8
TOKENS = 2


def step(p, v, c):
    """One control period. p, v, c: (..., 2) arrays. Returns new (p, v)."""
    desired = (c - p) / TAU
    speed = np.linalg.norm(desired, axis=-1, keepdims=True)
    scale = np.where(speed > V_MAX, V_MAX / np.maximum(speed, 1e-12), 1.0)
    v = desired * scale
    p = np.clip(p + v * DT, -ARENA, ARENA)
    return p, v


def expert_chunk(p, g, horizon):
    """(..., 2) positions and targets -> (..., horizon, 2) commanded positions."""
    delta = g - p
    dist = np.linalg.norm(delta, axis=-1, keepdims=True)
    unit = np.where(dist > 1e-9, delta / np.maximum(dist, 1e-12), 0.0)
    reach = V_MAX * DT * (np.arange(horizon) + 1) + V_MAX * TAU  # (H,)
    along = np.minimum(dist[..., None, :], reach[:, None])  # (..., H, 1)
    return p[..., None, :] + unit[..., None, :] * along


def policy_tokens(p, v, g):
    """The policy's input: a state token and a target token of TOKEN_FEATURES each.

    state:  [px, py, vx, vy, 0, 0, 1, 0]
    target: [gx - px, gy - py, 0, 0, gx, gy, 0, 1]
    """
    n = p.shape[:-1]
    x = np.zeros(n + (TOKENS, TOKEN_FEATURES), dtype=np.float32)
    x[..., 0, 0:2] = p
    x[..., 0, 2:4] = v
    x[..., 0, 6] = 1
    x[..., 1, 0:2] = g - p
    x[..., 1, 4:6] = g
    x[..., 1, 7] = 1
    return x
