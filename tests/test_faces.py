"""Tests of the face problem (reluflow.flow._faces) and of the solvers on degenerate data:
the box solver against scipy's BVLS, the Filippov conditions for any number of faces, the
selection rule, and agreement with gradient descent as the step shrinks."""

import itertools

import numpy as np
import pytest
from flowcases import rel_err
from scipy.optimize import lsq_linear

import reluflow as rf
from reluflow.flow._faces import box_lsq, solve_faces


def random_faces(rng, degenerate):
    d, K = int(rng.integers(1, 7)), int(rng.integers(1, 31))
    X = rng.standard_normal((K, d))
    if degenerate:  # repeated and antipodal points
        idx = rng.integers(0, K, K // 2)
        X[: K // 2] = X[idx] * rng.choice([-1.0, 1.0], (K // 2, 1))
    return X


@pytest.mark.parametrize("seed", range(6))
def test_box_solver_matches_scipy_bvls(seed):
    rng = np.random.default_rng(seed)
    for trial in range(40):
        X = random_faces(rng, trial % 2 == 0)
        K = X.shape[0]
        b, ub = rng.standard_normal(X.shape[1]), rng.uniform(0.1, 2.0, K)
        beta, free = box_lsq(X @ X.T, X @ b, ub, np.full(K, 1e-12))
        ref = lsq_linear(X.T, b, bounds=(np.zeros(K), ub), method="bvls", tol=1e-14)
        # the residual (the velocity) is unique even when beta is not
        np.testing.assert_allclose(X.T @ beta - b, X.T @ ref.x - b, atol=1e-10)
        assert np.all((beta >= 0) & (beta <= ub))
        if free.any():  # a basic solution: the sliding faces are independent
            assert np.linalg.matrix_rank(X[free]) == free.sum()


def rates(X, D0, rho, s, alpha):
    return X @ (s * (D0 + X.T @ (alpha * rho)))


@pytest.mark.parametrize("seed", range(6))
def test_face_problem_satisfies_filippov_for_any_number_of_faces(seed):
    rng = np.random.default_rng(100 + seed)
    for trial in range(40):
        X = random_faces(rng, trial % 3 == 0)
        D0, rho, s = rng.standard_normal(X.shape[1]), rng.standard_normal(X.shape[0]), rng.choice([-1.0, 1.0])
        G, q = X @ X.T, X @ D0
        tol = 1e-9 * (np.abs(G) @ np.abs(rho) + np.abs(q))
        alpha, codes = solve_faces(q, G, rho, s, tol)
        u = rates(X, D0, rho, s, alpha)
        assert np.all(np.where(codes == 0, u <= tol, True)) and np.all(np.where(codes == 1, u >= -tol, True))
        slide = codes == 2
        assert np.all(np.abs(u[slide]) <= 1e3 * tol[slide]) and np.all((alpha[slide] > 0) & (alpha[slide] < 1))
        C = np.abs(X @ X.T) / np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1))
        if (C - np.eye(C.shape[0])).max() < 1 - 1e-9:  # no repeated or antipodal points
            # (those share one multiplier per group)
            assert not np.any(slide & (s * rho > 0))  # repelling faces never slide
            if slide.any():
                assert np.linalg.matrix_rank(X[slide]) == slide.sum()


def test_attracting_faces_have_one_velocity_whatever_the_selection():
    # brute force over all 3^K assignments: every consistent one gives the rule's velocity
    rng = np.random.default_rng(7)
    for _ in range(30):
        K, d = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        X = rng.standard_normal((K, d))
        X[-1] = -X[0] if K > 2 else X[-1]  # an antipodal pair
        D0, s = rng.standard_normal(d), 1.0
        rho = -np.abs(rng.standard_normal(K))  # all attracting for a_j > 0
        alpha, _ = solve_faces(X @ D0, X @ X.T, rho, s, np.full(K, 1e-12))
        v = D0 + X.T @ (alpha * rho)
        for case in itertools.product((0, 1, 2), repeat=K):
            a = np.array([float(c == 1) for c in case])
            free = [k for k in range(K) if case[k] == 2]
            if free:
                fixed = [k for k in range(K) if case[k] != 2]
                A = (X[free] @ X[free].T) * rho[free][None, :]
                rhs = -(X[free] @ (D0 + X[fixed].T @ (a[fixed] * rho[fixed])))
                sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
                if not np.allclose(A @ sol, rhs, atol=1e-10) or np.any((sol <= 0) | (sol >= 1)):
                    continue
                a[free] = sol
            u = rates(X, D0, rho, s, a)
            ok = all((c == 0 and uk <= 1e-10) or (c == 1 and uk >= -1e-10) or (c == 2 and abs(uk) <= 1e-8)
                     for c, uk in zip(case, u, strict=True))
            if ok:
                np.testing.assert_allclose(D0 + X.T @ (a * rho), v, atol=1e-8)


def test_repelling_faces_are_off_unless_pushed_up():
    x = np.array([[1.0, 0.0]])
    # both sides leave the face (q < 0 < q + M): relu'(0) = 0, so the pair stays off
    assert solve_faces([-0.5], x @ x.T, [1.0], 1.0, [1e-12])[1].tolist() == [0]
    assert solve_faces([0.5], x @ x.T, [1.0], 1.0, [1e-12])[1].tolist() == [1]
    # an antipodal repelling pair (one face, two sides): the side the field with both terms
    # off points to, whichever point is listed first
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    for order in ([0, 1], [1, 0]):
        Xo = X[order]
        _, codes = solve_faces(Xo @ [0.3, 0.0], Xo @ Xo.T, [1.0, 1.0], 1.0, [1e-12, 1e-12])
        assert codes.tolist() == ([1, 0] if order == [0, 1] else [0, 1])
    # repeated points with opposite residuals share one multiplier (both on or both off)
    X = np.array([[1.0, 0.0], [1.0, 0.0]])
    alpha, codes = solve_faces([0.5, 0.5], X @ X.T, [-0.2, 1.0], 1.0, [1e-12, 1e-12])
    assert codes[0] == codes[1] and alpha[0] == alpha[1]


# ------------------------------------------------------------- degenerate data
def degenerate_cases():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((6, 3))
    dup = rf.Dataset(np.vstack([Z, Z[:3]]), rng.choice([-1.0, 1.0], 9))
    anti = rf.Dataset(np.vstack([Z, -Z[:3]]), rng.choice([-1.0, 1.0], 9))
    return {
        "hypercube-d4": (rf.datasets.sparse_parity(4), rf.small_init(12, 4, 1e-2, seed=1), "logistic", 20.0),
        "hypercube-d6": (rf.datasets.sparse_parity(6), rf.small_init(12, 6, 1e-2, seed=1), "logistic", 20.0),
        "duplicated": (dup, rf.small_init(10, 3, 1e-2, seed=2), "logistic", 30.0),
        "antipodal": (anti, rf.small_init(10, 3, 1e-2, seed=2), "logistic", 30.0),
        "symmetric-two-point": (rf.datasets.two_point(1.0, 0.5), rf.small_init(12, 2, 1e-2, seed=1), "exponential", 12.0),
    }


CASES = degenerate_cases()


@pytest.mark.parametrize("name", list(CASES))
def test_degenerate_data_converges_like_gradient_descent(name):
    data, net0, loss, t_end = CASES[name]
    ref = rf.gradient_flow(net0, data, loss, t_end, method="exponential", rtol=1e-9)
    assert ref.success, ref.message
    if name != "symmetric-two-point":  # auto: parallel points go to the exponential method
        assert rf.flow.choose_method(net0, data) == "exponential"
    gaps = [
        rel_err(rf.gradient_flow(net0, data, loss, t_end, method="euler", step=h).final.flat(), ref.final.flat())
        for h in (1e-2, 1e-3)
    ]
    assert gaps[1] < gaps[0] / 5 and gaps[1] < 2e-3  # first order: ~10x per 10x smaller step
    # the adaptive method slides on the same faces (parallel points: one face, one multiplier)
    tr = rf.gradient_flow(net0, data, loss, t_end, method="adaptive", rtol=1e-8)
    assert tr.success, tr.message
    assert rel_err(tr.final.flat(), ref.final.flat()) < 1e-5


def test_adaptive_field_slides_on_antipodal_points_with_one_multiplier():
    from reluflow.flow._field import PatternField

    # x_0 and x_2 = -2 x_0 share one face; the neuron slides on it, with x_1 active
    X = np.array([[1.0, 0.0], [0.3, 1.0], [-2.0, 0.0]])
    data = rf.Dataset(X, [1.0, 1.0, -1.0])
    F = PatternField(X, data, rf.losses.get("logistic"))
    S = np.array([[False, True, False]])
    slide = np.array([[True, False, True]])
    F.set_pattern(S, slide)
    y = np.array([0.5, 0.0, 0.7])  # a = 0.5, w = (0, 0.7) on the face
    ydot, alpha = F(y, 1)
    rho = F.rho
    assert np.all(np.isfinite(alpha)) and alpha[0] + alpha[1] == pytest.approx(1.0)
    # the Filippov combination with alpha_0 = alpha, alpha_2 = 1 - alpha keeps w on the face
    D = rho[1] * X[1] + alpha[0] * rho[0] * X[0] + alpha[1] * rho[2] * X[2]
    np.testing.assert_allclose(ydot[1:], 0.5 * D, atol=1e-14)
    assert abs(ydot[1:] @ X[0]) < 1e-14


def test_adaptive_reaches_t_end_on_hypercube_parity():
    # bench/scale.py's parity problem at d = 4: it stalled (landings without progress in
    # time) on antipodal faces sliding together and on ties hidden by the face tolerance
    d = 4
    data = rf.datasets.sparse_parity(d)
    tr = rf.gradient_flow(rf.small_init(40, d, 1e-4, seed=0), data, "logistic", 3000.0, method="adaptive")
    assert tr.success and tr.t[-1] == 3000.0, tr.message
    assert tr.nfev < 5000  # (multipliers held at a bound by symmetry are not re-solved at every landing)
    gamma = rf.diagnostics.normalized_margin(tr.final, data)
    assert abs(gamma * 2 * np.sqrt(8 * d) - 1) < 0.05  # gamma_gl / 2 (chapter 5)


def test_hypercube_neurons_meet_many_faces_at_once():
    data, net0, loss, t_end = CASES["hypercube-d6"]
    ref = rf.gradient_flow(net0, data, loss, t_end, method="exponential", rtol=1e-6)
    t = ref.switches["t"]
    # many pairs of one neuron change state at the same instant (faces meeting at a neuron)
    _, counts = np.unique(np.round(t, 12) + 1e3 * ref.switches["neuron"], return_counts=True)
    assert ref.success and counts.max() >= 4


# ------------------------------------------------------------- compiled port
@pytest.mark.parametrize("seed", range(3))
def test_compiled_face_solver_matches_the_python_reference(seed):
    from reluflow.flow import _kernels

    rng = np.random.default_rng(200 + seed)
    for trial in range(60):
        X = random_faces(rng, trial % 2 == 0)
        K = X.shape[0]
        D0, rho, s = rng.standard_normal(X.shape[1]), rng.standard_normal(K), float(rng.choice([-1.0, 1.0]))
        if trial % 5 == 0:
            rho[rng.integers(0, K)] = 0.0
        G, q = X @ X.T, X @ D0
        tol = 1e-9 * (np.abs(G) @ np.abs(rho) + np.abs(q))
        alpha, codes = solve_faces(q, G, rho, s, tol)
        alpha_c, codes_c = _kernels.solve_faces(q, G, rho, s, tol, np.full(K, -1))
        assert codes_c.tolist() == codes.tolist()
        np.testing.assert_allclose(alpha_c, alpha, atol=1e-10)
        # the box solver: same velocity (unique) and a basic solution
        b, ub = rng.standard_normal(X.shape[1]), rng.uniform(0.1, 2.0, K)
        beta, _ = box_lsq(G, X @ b, ub, np.full(K, 1e-12))
        beta_c, free_c = _kernels.box_lsq(G, X @ b, ub, np.full(K, 1e-12))
        np.testing.assert_allclose(X.T @ beta_c, X.T @ beta, atol=1e-10)
        if free_c.any():
            assert np.linalg.matrix_rank(X[free_c]) == free_c.sum()


def test_compiled_faces_run_like_the_python_faces_on_the_hypercube(monkeypatch):
    from reluflow.flow._frozen import _Engine

    data, net0, loss, t_end = CASES["hypercube-d6"]
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(_Engine, "compiled_faces", compiled)
        runs.append(rf.gradient_flow(net0, data, loss, t_end, method="exponential"))
    fast, ref = runs
    assert fast.success and ref.success
    assert (fast.nfev, fast.nsteps) == (ref.nfev, ref.nsteps)
    # (on the hypercube a landing can have several face sets with the same, unique velocity,
    # e.g. neuron 4 at t = 4.42 slides on points {28, 35} or on {17, 46}: round-off picks one,
    # so the event logs may differ by a few entries while the trajectory agrees)
    assert abs(fast.info["nevents_total"] - ref.info["nevents_total"]) <= 0.02 * ref.info["nevents_total"]
    assert rel_err(fast.final.flat(), ref.final.flat()) < 1e-11


def test_compiled_gram_solve_matches_the_pseudo_inverse():
    from reluflow.flow import _kernels

    rng = np.random.default_rng(9)
    for degenerate in (False, True):
        X = random_faces(rng, degenerate)
        while X.shape[0] < 8:
            X = random_faces(rng, degenerate)
        G = X @ X.T
        n = X.shape[0]
        mask = rng.random((12, n)) < 0.3
        mask[np.arange(12), rng.integers(0, n, 12)] = True
        B = rng.standard_normal((12, n))
        C = _kernels.gram_solve(mask, B, G, np.einsum("ij,ij->i", X, X))
        for e in range(12):
            K = np.flatnonzero(mask[e])
            # the same projection onto span{x_k : k in K} as the least-norm least-squares solution
            ref = np.linalg.pinv(G[np.ix_(K, K)]) @ B[e, K]
            np.testing.assert_allclose(C[e, K] @ X[K], ref @ X[K], atol=1e-8 * (1 + np.abs(ref @ X[K]).max()))
            assert not C[e, ~mask[e]].any()
