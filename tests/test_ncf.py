"""Tests for reluflow.ncf and the correlation G_rho (rf.Correlation): the NCF, its KKT directions
(checked against brute force on dense grids of the circle and the sphere, with certificates),
the maximum of the NCF (checked against gradient flow of the linear loss), escape times and
the residual correlation."""

import itertools
import time
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.spatial import cKDTree

import reluflow as rf
from reluflow.ncf import direction_value, escape_time, kkt_directions, max_ncf, residual_correlation, value

N_CIRCLE, N_SPHERE = 20_000, 20_000


def weighted(X, rho):
    """The points X with signed weights rho, as the library takes them (labels unused)."""
    X = np.asarray(X, float)
    return rf.Dataset(X, np.zeros(X.shape[0]) if X.ndim == 2 else [0.0]).weighted(rho)


def kkt(X, rho, **kwargs):
    return kkt_directions(weighted(X, rho), **kwargs)


def maximum(X, rho, **kwargs):
    return max_ncf(weighted(X, rho), **kwargs)


def G(V, X, rho):
    """Plain-numpy alignment function (the reference for the library's)."""
    return np.maximum(np.atleast_2d(V) @ np.asarray(X).T, 0.0) @ np.asarray(rho)


def lipschitz(X, rho):
    """|G(v) - G(v')| <= sum_i |rho_i| ||x_i|| ||v - v'||."""
    return float(np.sum(np.abs(rho) * np.linalg.norm(X, axis=1)))


@lru_cache
def grid(d):
    """Dense grid of the sphere, its neighbour lists and its covering radius (a bound on
    the distance from any unit vector to the nearest grid point)."""
    if d == 2:
        t = 2 * np.pi * np.arange(N_CIRCLE) / N_CIRCLE
        V = np.column_stack([np.cos(t), np.sin(t)])
        k = np.arange(N_CIRCLE)
        return V, np.column_stack([(k - 1) % N_CIRCLE, (k + 1) % N_CIRCLE]), np.pi / N_CIRCLE
    k = np.arange(N_SPHERE) + 0.5  # Fibonacci lattice
    z, phi = 1 - 2 * k / N_SPHERE, np.pi * (1 + 5**0.5) * k
    V = np.column_stack([np.sqrt(1 - z**2) * np.cos(phi), np.sqrt(1 - z**2) * np.sin(phi), z])
    tree = cKDTree(V)
    _, nb = tree.query(V, k=9)
    # covering radius measured on 2e5 random points, with a 50% margin
    P = np.random.default_rng(0).standard_normal((200_000, 3))
    cover = 1.5 * tree.query(P / np.linalg.norm(P, axis=1)[:, None])[0].max()
    return V, nb[:, 1:], cover


def tangent_basis(v):
    return np.linalg.svd(v[None, :])[2][1:]


def zoom(X, rho, v, radius, sign, basis):
    """Zoom hill-climbing of sign * G from v: search a patch spanned by ``basis(v)`` (unit
    directions, 1 or 2 of them), move to its best point, grow the patch when that point is
    on its edge and shrink it otherwise; stop at radius 1e-10."""
    g = np.linspace(-1.0, 1.0, 41 if len(basis(v)) == 1 else 21)
    offs = g[:, None] if len(basis(v)) == 1 else np.array(np.meshgrid(g, g)).reshape(2, -1).T
    for _ in range(3000):
        W = v + radius * offs @ basis(v)
        W /= np.linalg.norm(W, axis=1)[:, None]
        vals = sign * G(W, X, rho)
        j = int(np.argmax(vals))
        if vals[j] > sign * G(v, X, rho)[0]:
            v, on_edge = W[j], np.max(np.abs(offs[j])) == 1.0
            radius *= 2 if on_edge else 0.5
        else:
            radius /= 4
        if radius < 1e-10:
            break
    return v


def refine(X, rho, v, radius, sign):
    """A local maximiser of sign * G near v. A 2-D search stalls on sharp ridges (faces
    <v, x_i> = 0 of points with sign * rho_i < 0), so from each stall it also climbs along
    the great circles of nearby faces and tries their vertices, until nothing improves."""
    norms = np.linalg.norm(X, axis=1)
    U = X[(norms > 0) & (rho != 0)] / norms[(norms > 0) & (rho != 0), None]
    best = sign * G(v, X, rho)[0]
    for _ in range(10):
        cands = [zoom(X, rho, v, radius, sign, tangent_basis)]
        near = np.flatnonzero(np.abs(U @ cands[0]) < 1e-4) if X.shape[1] == 3 else []
        for i in near:
            w = cands[0] - (cands[0] @ U[i]) * U[i]
            circle = lambda w, u=U[i]: np.cross(u, w)[None] / np.linalg.norm(np.cross(u, w))  # noqa: E731
            cands.append(zoom(X, rho, w / np.linalg.norm(w), 1e-3, sign, circle))
        for i, j in itertools.combinations(near, 2):
            n = np.cross(U[i], U[j])
            if np.linalg.norm(n) > 1e-6:
                cands.append(np.sign(n @ cands[0]) * n / np.linalg.norm(n))
        vals = sign * G(np.array(cands), X, rho)
        if vals.max() <= best:
            break
        best, v, radius = vals.max(), cands[int(np.argmax(vals))], 1e-4
    return v, sign * best


def zero_attained(X, rho, V):
    """Whether G = 0 (to TOL) somewhere on the sphere. If the max (min) of G is 0, it is attained on
    a region, an arc of a face or a vertex; the closure of each holds a vertex (a unit
    vector orthogonal to d - 1 independent points) or a vector orthogonal to all points."""
    U = X[(rho != 0) & (np.linalg.norm(X, axis=1) > 0)]
    d = X.shape[1]
    cands = [V, np.linalg.svd(np.vstack([U, np.zeros((d, d))]))[2][np.linalg.matrix_rank(U) :]]
    for B in itertools.combinations(range(len(U)), d - 1):
        if np.linalg.matrix_rank(U[list(B)]) == d - 1:
            n = np.linalg.svd(U[list(B)])[2][-1]
            cands.append(np.array([n, -n]))
    return bool(np.any(np.abs(G(np.vstack(cands), X, rho)) <= 1e-9 * lipschitz(X, rho)))


def check_certificate(c, X, rho):
    """The KKT certificate: beta = 1 on active, 0 on inactive, in [0, 1] on faces, and
    sum_i beta_i rho_i x_i = G(v) v; plus consistency of v, value, active, faces."""
    L = lipschitz(X, rho)
    norms = np.linalg.norm(X, axis=1)
    proj = X @ c.v
    assert_allclose(np.linalg.norm(c.v), 1.0, rtol=1e-12)
    assert_allclose(c.value, G(c.v, X, rho)[0], atol=1e-12 * L)
    assert c.value != 0
    assert c.active == set(np.flatnonzero(proj > 1e-9 * norms))
    assert c.faces == set(np.flatnonzero((np.abs(proj) <= 1e-9 * norms) & (norms > 0)))
    inactive = [i for i in range(len(rho)) if i not in c.active | c.faces]
    assert np.all(c.beta[list(c.active)] == 1) and np.all(c.beta[inactive] == 0)
    assert np.all((c.beta >= 0) & (c.beta <= 1))
    assert np.linalg.norm((c.beta * rho) @ X - c.value * c.v) <= 1e-8 * L
    effective_faces = [i for i in c.faces if rho[i] != 0]
    if c.kind == "smooth" and not effective_faces:  # D_S is parallel to v
        D = rho[list(c.active)] @ X[list(c.active)]
        assert_allclose(D, c.value * c.v, atol=1e-10 * L)
    assert c.kind in ("smooth", "kink") and c.extremum in ("max", "min", "saddle")


def check_type(c, crits, X, rho):
    """Sample check of the local type: G on a small circle of tangent directions around v
    (radius 1e-4, below the distance to the other faces and critical points)."""
    d, L = c.v.shape[0], lipschitz(X, rho)
    norms = np.linalg.norm(X, axis=1)
    far = [i for i in range(len(rho)) if norms[i] > 0 and i not in c.faces]
    margin = min((abs(X[i] @ c.v) / norms[i] for i in far), default=1.0)
    margin = min([margin] + [np.linalg.norm(o.v - c.v) for o in crits if o is not c])
    if margin < 1e-3 or abs(c.value) < 1e-4 * L:
        return  # structure below the radius, or second-order changes below rounding
    T = tangent_basis(c.v)
    if d == 2:
        H = np.vstack([T, -T])
    else:
        ring = np.linspace(0, 2 * np.pi, 360, endpoint=False)
        along = [np.cross(X[i], c.v) for i in c.faces]
        H = np.vstack(
            [np.column_stack([np.cos(ring), np.sin(ring)]) @ T] + [s * a for a in along for s in (1, -1)]
        )
        H /= np.linalg.norm(H, axis=1)[:, None]
    r = 1e-4
    delta = G(np.cos(r) * c.v + np.sin(r) * H, X, rho) - c.value
    eps = 1e-13 * L
    if c.extremum == "max":
        assert delta.max() <= eps, (c, delta.max())
    elif c.extremum == "min":
        assert delta.min() >= -eps, (c, delta.min())
    else:
        assert delta.max() > eps and delta.min() < -eps, (c, delta.max(), delta.min())


def brute_force_check(X, rho, crits):
    """Compare the critical directions with G on a dense grid (global max/min and every
    strict discrete local extremum, refined by zoom hill-climbing)."""
    d, L = X.shape[1], lipschitz(X, rho)
    V, nb, cover = grid(d)
    Gv = G(V, X, rho)
    values = np.array([c.value for c in crits])
    # G's extremes are listed critical values, or 0 (not listed) where G vanishes
    levels = np.append(values, 0.0) if zero_attained(X, rho, V) else values
    top, bottom = levels.max(), levels.min()
    # nothing on the grid beats the listed extremes; Lipschitz: they are within L * cover
    assert Gv.max() <= top + 1e-9 * L and top <= Gv.max() + L * cover
    assert Gv.min() >= bottom - 1e-9 * L and bottom >= Gv.min() - L * cover
    for sign, kind in ((1, "max"), (-1, "min")):
        strict = np.all(sign * Gv[:, None] > sign * Gv[nb], axis=1) & (np.abs(Gv) > 1e-9 * L)
        for k in np.flatnonzero(strict):  # (|G| <= 1e-9 L: rounding noise where G = 0)
            v, value = refine(X, rho, V[k], 2 * cover, sign)
            if abs(value) < 1e-9 * L:
                continue  # a G = 0 region (not listed by design)
            near = min(
                (c for c in crits if c.extremum == kind), key=lambda c: np.linalg.norm(c.v - v), default=None
            )
            assert near is not None and np.linalg.norm(near.v - v) < 1e-5, (
                f"grid local {kind} at {v} (G = {value})"
            )
            assert abs(near.value - value) <= 1e-9 * L


def random_problem(seed, d):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    X = rng.standard_normal((n, d)) * rng.uniform(0.3, 2.0, n)[:, None]
    return X, rng.uniform(-1.0, 1.0, n)


def check_all(X, rho):
    crits = kkt(X, rho)
    for c in crits:
        check_certificate(c, X, rho)
        check_type(c, crits, X, rho)
    brute_force_check(X, rho, crits)
    vals = [abs(c.value) for c in crits]
    assert vals == sorted(vals, reverse=True)
    assert len({(c.active, c.faces) for c in crits}) == len(crits)  # no duplicates
    return crits


# ---------------------------------------------------------------- alignment function, NCF


def test_alignment_function_values_and_shapes():
    rng = np.random.default_rng(0)
    X, rho, V = rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal((7, 3))
    Gr = weighted(X, rho)
    out = Gr(V)
    assert out.shape == (7,)
    assert_allclose(out, [sum(r * max(v @ x, 0) for x, r in zip(X, rho, strict=True)) for v in V])
    single = Gr(V[0])
    assert isinstance(single, float)
    assert_allclose(single, out[0], rtol=1e-14)
    assert_allclose(Gr(3.0 * V), 3.0 * out)  # one-homogeneous
    assert_allclose(Gr.X, X) and isinstance(Gr, rf.Correlation) and Gr.data.n == 5
    assert_allclose(rf.Correlation(Gr.data, rho)(V), out)


def test_correlation_is_minus_the_outer_gradient():
    # with the residual weights at a network, G_rho(w_j) = -dL/da_j: one function, two names
    rng = np.random.default_rng(4)
    data = rf.Dataset(rng.standard_normal((6, 3)), rng.standard_normal(6))
    net = rf.Network(rng.standard_normal(4), rng.standard_normal((4, 3)))
    _, grad = rf.loss_and_grad(net, data, "square")
    assert_allclose(residual_correlation(net, data, "square")(net.W), -grad.a, rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_ncf_is_sum_over_neurons_and_two_homogeneous(seed):
    rng = np.random.default_rng(seed)
    X, rho = rng.standard_normal((6, 3)), rng.standard_normal(6)
    net = rf.Network(rng.standard_normal(4), rng.standard_normal((4, 3)))
    nw = np.linalg.norm(net.W, axis=1)
    Gr = weighted(X, rho)
    expected = sum(a * n * Gr(w / n) for a, w, n in zip(net.a, net.W, nw, strict=True))
    assert_allclose(value(net, Gr), expected, rtol=1e-12)
    assert_allclose(value(net.scaled(2.5), Gr), 2.5**2 * value(net, Gr), rtol=1e-12)
    assert_allclose(direction_value(net.scaled(7.0), Gr), value(net, Gr) / net.norm_sq(), rtol=1e-12)
    # the maximum on the sphere bounds every direction
    assert direction_value(net, Gr) <= max_ncf(Gr).value + 1e-12


def test_ncf_errors():
    net = rf.Network([1.0], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="zero network"):
        direction_value(rf.Network([0.0], [[0.0, 0.0]]), weighted([[1.0, 0.0]], [1.0]))
    with pytest.raises(ValueError, match="dimension mismatch"):
        value(net, weighted([[1.0, 0.0, 0.0]], [1.0]))
    with pytest.raises(TypeError, match="rf.Network"):
        value("net", weighted([[1.0, 0.0]], [1.0]))
    with pytest.raises(ValueError, match="`V` must have shape"):
        weighted([[1.0, 0.0]], [1.0])([1.0, 0.0, 0.0])
    for call in (lambda: value(net, [[1.0, 0.0]]), lambda: kkt_directions([[1.0, 0.0]]),
                 lambda: max_ncf(np.eye(2))):  # fmt: skip
        with pytest.raises(TypeError, match="data.weighted"):
            call()
    with pytest.raises(TypeError, match="rf.Dataset"):
        rf.Correlation(np.eye(2), [1.0, 1.0])


# ---------------------------------------------------------------- KKT directions vs brute force


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_kkt_directions_match_brute_force_on_circle(seed):
    check_all(*random_problem(seed, 2))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_kkt_directions_match_brute_force_on_sphere(seed):
    check_all(*random_problem(seed, 3))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.sampled_from([2, 3]))
def test_kkt_directions_on_degenerate_integer_data(seed, d):
    # small integer points: zero rows, duplicates, parallel, antiparallel and coplanar
    # points (dependent faces), rho = 0 and exactly cancelling weights
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    X, rho = rng.integers(-2, 3, (n, d)).astype(float), rng.integers(-3, 4, n) / 3
    if not np.any((np.linalg.norm(X, axis=1) > 0) & (rho != 0)):
        with pytest.raises(ValueError, match="all zero|is zero"):
            kkt(X, rho)
    else:
        check_all(X, rho)


def test_two_point_instance_min_is_a_kink():
    delta, p = 1.0, 0.75
    data = rf.datasets.two_point(delta, p)
    rho = rf.losses.exponential.rho0(data)
    assert_allclose(rho, [p, -(1 - p)])
    crits = check_all(data.X, rho)
    low = min(crits, key=lambda c: c.value)
    assert (low.kind, low.extremum, low.faces, low.active) == ("kink", "min", {0}, {1})
    assert_allclose(low.value, -(1 - p) * np.sin(delta), rtol=1e-12)
    assert_allclose(low.v, [0.0, 1.0], atol=1e-12)  # v is orthogonal to x_+
    D = p * data.X[0] - (1 - p) * data.X[1]  # the smooth maximum, both points active
    assert (crits[0].kind, crits[0].extremum) == ("smooth", "max")
    assert_allclose(crits[0].value, np.linalg.norm(D), rtol=1e-12)


def test_maximum_at_a_kink():
    X = rf.datasets.two_point(1.0, 0.75).X
    crits = check_all(X, np.array([-0.75, 0.25]))  # flipped signs: G -> -G
    high = max(crits, key=lambda c: c.value)
    assert (high.kind, high.extremum) == ("kink", "max")
    assert_allclose(high.value, 0.25 * np.sin(1.0), rtol=1e-12)
    # three points at 120 degrees, all rho < 0: G < 0 everywhere, its maxima are kinks
    t = 2 * np.pi * np.arange(3) / 3
    X3 = np.column_stack([np.cos(t), np.sin(t)])
    crits = check_all(X3, -np.ones(3))
    maxima = [c for c in crits if c.extremum == "max"]
    assert len(maxima) == 6 and all(c.kind == "kink" for c in maxima)
    assert_allclose([c.value for c in maxima], -np.sqrt(3) / 2, rtol=1e-12)


# argmax |G| is a kink: neurons must slide along the face <w, x_3> = 0 to reach it
KINK_X = np.array([[-1.5, -0.8], [0.0, 1.5], [0.4, 1.1], [-0.8, 1.2]])
KINK_Y = np.array([-1.0, -0.5, 0.3, 0.3])


def test_max_of_abs_g_at_a_kink():
    rho = KINK_Y / 4
    crits = check_all(KINK_X, rho)
    top = crits[0]
    assert (top.kind, top.extremum, top.faces, top.active) == ("kink", "min", {3}, {0})
    assert_allclose(top.v, -np.array([1.2, 0.8]) / np.hypot(1.2, 0.8))  # orthogonal to x_3
    res = maximum(KINK_X, rho)
    assert_allclose([res.g_star, res.value], [-top.value, -top.value / 2])
    assert_allclose(res.direction, top.v)


def test_section_2_5_check_dataset():
    ang = np.array([0.2, 1.0, 2.2, 3.5, 4.6])
    X = np.array([1.0, 1.5, 1.0, 0.8, 1.2])[:, None] * np.column_stack([np.cos(ang), np.sin(ang)])
    data = rf.Dataset(X, [1.0, 0.5, -1.0, 0.7, -0.6])
    rho = rf.losses.square.rho0(data)
    crits = check_all(X, rho)
    smooth = [c for c in crits if c.kind == "smooth"]
    assert [(c.extremum, c.active) for c in smooth] == [("max", {0, 1}), ("min", {1, 2, 3})]
    assert_allclose([smooth[0].angle, smooth[0].value], [0.5397, 0.3230], atol=5e-5)
    assert_allclose([smooth[1].angle, smooth[1].value], [2.4690, -0.1200], atol=5e-5)
    # independent check on a grid of 2e6 angles (spacing 3e-6)
    t = np.linspace(0, 2 * np.pi, 2_000_000, endpoint=False)
    Gt = G(np.column_stack([np.cos(t), np.sin(t)]), X, rho)
    assert_allclose(
        [t[Gt.argmax()], Gt.max(), t[Gt.argmin()], Gt.min()], [0.5397, 0.3230, 2.4690, -0.1200], atol=5e-5
    )
    # the spec lists only the smooth points; there are also two kink extrema (faces of x_1, x_3)
    kinks = [c for c in crits if c.kind == "kink"]
    assert [(c.extremum, c.faces) for c in kinks] == [("min", {0}), ("max", {2})]
    assert_allclose([kinks[0].angle, kinks[1].angle], [0.2 - np.pi / 2 + 2 * np.pi, 2.2 + np.pi / 2])
    res = maximum(X, rho)
    assert_allclose([res.value, res.g_star], [smooth[0].value / 2, smooth[0].value])


def test_dependent_faces():
    # 2-D data with a bias coordinate, three collinear points: their hyperplanes share a
    # line, so the face set at that vertex is dependent (three points spanning a plane)
    P2 = np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.3, 1.0], [-0.5, -0.7]])
    X = rf.with_bias(P2)
    for rho in ([0.5, -1.0, 0.4, 0.3, -0.2], [-0.3, 0.2, -0.4, 0.5, 0.6], [1.0, 1.0, 1.0, -0.5, -0.5]):
        check_all(X, np.array(rho))
    # parallel and antiparallel points (dependent faces in d = 2)
    X = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [0.3, 1.0], [-0.2, -0.9]])
    check_all(X, np.array([0.5, -0.1, 0.3, -0.4, 0.7]))
    # an antiparallel pair with opposite weights is linear: relu(t) - relu(-t) = t
    crits = check_all(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0]))
    assert [(c.value, c.kind, c.extremum) for c in crits] == [(1.0, "smooth", "max"), (-1.0, "smooth", "min")]
    # ... so at v = (0, 1), on the face of that pair, G(v') = v'_2 nearby: smooth, not a kink
    crits = check_all(np.array([[1.0, 0.0], [-1.0, 0.0], [-1.0, 1.0]]), np.array([1.0, -1.0, 1.0]))
    top = [c for c in crits if c.faces == {0, 1}]
    assert len(top) == 1 and (top[0].kind, top[0].extremum, top[0].value) == ("smooth", "max", 1.0)
    assert_allclose(top[0].v, [0.0, 1.0], atol=1e-15)


def test_merged_parallel_points_and_inert_rows():
    rng = np.random.default_rng(3)
    X, rho = rng.standard_normal((4, 3)), rng.uniform(-1, 1, 4)
    base = kkt(X, rho)
    # split point 0 into two parallel copies; add a zero row and a rho = 0 row
    X2 = np.vstack([X, 0.5 * X[0], np.zeros(3), rng.standard_normal(3)])
    rho2 = np.concatenate([rho, [0.0, 5.0, 0.0]])
    rho2[0], rho2[4] = 0.5 * rho[0], rho[0]  # 0.5 rho_0 x_0 + rho_0 (x_0 / 2) = rho_0 x_0
    other = kkt(X2, rho2)
    assert len(other) == len(base)
    for a, b in zip(base, other, strict=True):
        assert_allclose(b.v, a.v, atol=1e-9)
        assert_allclose(b.value, a.value, rtol=1e-9)
        assert (a.kind, a.extremum) == (b.kind, b.extremum)


@pytest.mark.parametrize("seed", range(3))
def test_rotation_equivariance_and_rho_scaling(seed):
    rng = np.random.default_rng(seed)
    X, rho = rng.standard_normal((5, 3)), rng.uniform(-1, 1, 5)
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    base, rotated, scaled = kkt(X, rho), kkt(X @ Q.T, rho), kkt(X, 3 * rho)
    assert len(base) == len(rotated) == len(scaled)
    for a, b, c in zip(base, rotated, scaled, strict=True):
        assert_allclose(b.v, Q @ a.v, atol=1e-9)
        assert_allclose([b.value, c.value], [a.value, 3 * a.value], rtol=1e-9)
        assert a.active == b.active and a.faces == b.faces and a.kind == b.kind


def test_include_kinks_false_gives_the_smooth_points():
    X, rho = random_problem(11, 3)
    all_ = kkt(X, rho)
    smooth = kkt(X, rho, include_kinks=False)
    assert [c.v.tolist() for c in smooth] == [c.v.tolist() for c in all_ if c.kind == "smooth"]
    assert all(not c.faces for c in smooth)


def test_higher_dimension_points_are_critical():
    rng = np.random.default_rng(5)
    X, rho = rng.standard_normal((6, 4)), rng.uniform(-1, 1, 6)
    crits = kkt(X, rho)
    for c in crits:
        check_certificate(c, X, rho)
    P = rng.standard_normal((200_000, 4))
    Gs = G(P / np.linalg.norm(P, axis=1)[:, None], X, rho)
    g_star = maximum(X, rho).g_star
    assert np.abs(Gs).max() <= g_star + 1e-12 and g_star <= np.abs(Gs).max() + 0.1 * lipschitz(X, rho)


# ---------------------------------------------------------------- max_ncf vs gradient flow


@pytest.mark.parametrize("case", ["d2", "d3", "kink"])
def test_max_ncf_matches_gradient_flow_of_linear_loss(case):
    # With the linear loss rho = y / n is constant, so gradient flow *is* the NCF flow.
    # Neurons at arg max |G| grow like e^{g* t}, the next attractor like e^{g_2 t} with
    # g_2 <= the next |critical value|; the latter's share of ||theta||^2 decays like
    # e^{-2 (g* - g_2) t}, so T = 8 / (g* - g_2) leaves a share ~ e^{-16} (<< 1e-3).
    if case == "kink":
        X, y = KINK_X, KINK_Y
    else:
        rng = np.random.default_rng(11 if case == "d2" else 10)
        X, y = rng.standard_normal((5, int(case[1]))), rng.uniform(-1, 1, 5)
    rho, d = y / len(y), X.shape[1]
    res, crits = maximum(X, rho), kkt(X, rho)
    t_end = max(16.0, 8.0 / (1.0 - abs(crits[1].value) / res.g_star)) / res.g_star
    traj = rf.gradient_flow(rf.small_init(40, d, 1e-6, seed=0), rf.Dataset(X, y), "linear", t_end)
    net = traj.final
    assert traj.success and np.sqrt(net.norm_sq()) > 1e6 * np.sqrt(traj.norm_sq()[0])
    assert_allclose(direction_value(net, weighted(X, rho)), res.value, rtol=1e-3)
    sign = np.sign(weighted(X, rho)(res.direction))
    top = np.argsort(net.neuron_norms())[-3:]
    cos = net.W[top] @ res.direction / np.linalg.norm(net.W[top], axis=1)
    assert np.all(cos > 1 - 1e-6) and np.all(np.sign(net.a[top]) == sign)


# ---------------------------------------------------------------- errors, escape time, residuals


def test_kkt_errors():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    cases = [
        ((X, [1.0]), "one weight per point"),
        ((np.zeros((2, 2)), [1.0, 1.0]), "all zero"),
        ((X, [0.0, 0.0]), "rho` is zero"),
        ((X, [np.nan, 1.0]), "`rho` must be finite"),
        (([[np.inf, 0.0], [0.0, 1.0]], [1.0, 1.0]), "`X` must be finite"),
        (([1.0, 0.0], [1.0]), "`X` must be 2-D"),
    ]
    for args, msg in cases:
        with pytest.raises(ValueError, match=msg):
            kkt(*args)
        with pytest.raises(ValueError, match=msg):
            maximum(*args)
    with pytest.raises(ValueError, match="`tol`"):
        kkt(X, [1.0, 1.0], tol=0.0)
    with pytest.raises(ValueError, match="vanishes identically"):
        maximum([[1.0, 0.0], [1.0, 0.0]], [1.0, -1.0])  # the two terms cancel


def test_enumeration_too_large_fails_fast():
    rng = np.random.default_rng(0)
    X, rho = rng.standard_normal((30, 3)), rng.uniform(-1, 1, 30)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"n = 30 points .* the limit is max_candidates"):
        kkt(X, rho)
    with pytest.raises(ValueError, match="n = 30"):
        kkt(X, rho, include_kinks=False)
    with pytest.raises(ValueError, match="n = 8"):
        kkt(X[:8], rho[:8], max_candidates=1000)
    assert time.perf_counter() - start < 1.0


def test_escape_time():
    assert_allclose(escape_time(1e-6, 0.5), np.log(1e6) / 0.5)
    assert_allclose(escape_time(0.5, 2.0), np.log(2.0) / 2.0)
    for scale, g in (
        (0.0, 1.0),
        (1.0, 1.0),
        (-1e-3, 1.0),
        (np.nan, 1.0),
        (1e-3, 0.0),
        (1e-3, -1.0),
        (1e-3, np.inf),
    ):
        with pytest.raises(ValueError, match="`scale`" if g == 1.0 else "`g_star`"):
            escape_time(scale, g)


@pytest.mark.parametrize("loss", ["square", "logistic", "exponential"])
def test_residual_correlation_weights_are_minus_dL_df(loss):
    rng = np.random.default_rng(1)
    data = rf.Dataset(rng.standard_normal((6, 3)), rng.choice([-1.0, 1.0], 6), weights=rng.uniform(0.1, 1, 6))
    net = rf.Network(rng.standard_normal(4), rng.standard_normal((4, 3)))
    loss_obj, f, h = rf.losses.get(loss), net(data.X), 1e-6
    fd = [
        -(loss_obj.value(f + h * e, data) - loss_obj.value(f - h * e, data)) / (2 * h) for e in np.eye(data.n)
    ]
    Gr = residual_correlation(net, data, loss)
    assert Gr.data is data
    assert_allclose(Gr.rho, fd, rtol=1e-7, atol=1e-10)
    zero = rf.Network(np.zeros(4), np.zeros((4, 3)))
    assert_allclose(residual_correlation(zero, data, loss).rho, loss_obj.rho0(data))
    with pytest.raises(ValueError, match="dimension mismatch"):
        residual_correlation(rf.Network([1.0], [[1.0, 0.0]]), data, loss)
