"""Tests of rf.ncf.symbolic: identities and the exact 2-D KKT enumeration vs brute force."""

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import reluflow as rf

S = rf.ncf.symbolic


def test_identities_simplify_to_zero():
    ei = S.euler_identity(n=3, d=3)
    assert ei.euler.residual == 0 and ei.growth.residual == 0
    assert S.neuron_reduction(n=2, d=3).residual == 0
    assert S.kkt_multiplier().residual == 0
    m = S.single_neuron_maximum()
    assert m.maximum == sp.Symbol("g", positive=True) / 2 and m.amgm_gap.residual == 0


def test_identities_fail_for_a_wrong_claim():
    # negative control: Euler's identity with the wrong degree does not simplify to zero
    euler = S.euler_identity(n=2, d=2).euler
    assert sp.simplify(euler.lhs - 3 * euler.rhs / 2) != 0


def test_two_point_kink_minimum():
    R = sp.Rational
    pts = S.exact_kkt_points_2d([[1, 0], [R(3, 5), R(4, 5)]], [R(3, 4), R(-1, 4)])
    smooth, kink = pts
    assert smooth.kind == "smooth" and smooth.value == sp.sqrt(10) / 5
    assert kink.kind == "kink" and kink.value == R(-1, 5) and kink.beta == (R(1, 5),)
    assert list(kink.v) == [0, 1] and kink.faces == frozenset({0})


def G(V, X, rho):
    return np.maximum(V @ X.T, 0) @ rho


rationals = st.fractions(min_value=-2, max_value=2, max_denominator=5)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(rationals, rationals, rationals), min_size=1, max_size=4))
def test_exact_points_match_brute_force_on_the_circle(rows):
    X = np.array([[float(a), float(b)] for a, b, _ in rows])
    rho = np.array([float(r) for *_, r in rows])
    pts = S.exact_kkt_points_2d([[a, b] for a, b, _ in rows], [r for *_, r in rows])
    phi = np.linspace(0, 2 * np.pi, 20000, endpoint=False)
    V = np.c_[np.cos(phi), np.sin(phi)]
    g = G(V, X, rho)
    lip = np.sum(np.abs(rho) * np.linalg.norm(X, axis=1)) * (2 * np.pi / 20000) + 1e-12
    values = np.array([float(p.value) for p in pts])
    for p in pts:  # each exact value is G at its direction
        v = np.array([float(c) for c in p.v])
        assert abs(G(v[None], X, rho)[0] - float(p.value)) < 1e-12
    # global extrema of G (when nonzero) are among the critical values
    if g.max() > lip:
        assert values.size and abs(values.max() - g.max()) <= lip
    if g.min() < -lip:
        assert values.size and abs(values.min() - g.min()) <= lip
    # every strict discrete local extremum of the grid is near an exact critical point
    left, right = np.roll(g, 1), np.roll(g, -1)
    ext = np.flatnonzero(((g > left) & (g > right)) | ((g < left) & (g < right)))
    dirs = np.array([[float(c) for c in p.v] for p in pts]).reshape(-1, 2)
    for k in ext:
        if abs(g[k]) > 10 * lip:
            assert dirs.size and np.min(np.linalg.norm(dirs - V[k], axis=1)) < 1e-3
