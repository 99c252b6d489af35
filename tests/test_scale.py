"""emlib.scale: Gaussian-mixture EM on Dask arrays, on a real LocalCluster (issue 16).

The cluster (two worker processes on 127.0.0.1, no dashboard, no network beyond the loopback)
is started once for the module and stopped at its end. The data are written by the tests to
disk in chunks of rows (NumPy .npy files, read back with ``da.from_npy_stack``), so every
iteration of a chunked fit reads them again, as a fit on data larger than memory does.

The reference is always emlib's in-memory fit (or a closed form): never a number computed by
the chunked code itself.
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import emlib  # noqa: E402
import emlib.scale  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# the tasks that kill a worker are defined here: send them by value (the workers need not import this file)
cloudpickle.register_pickle_by_value(sys.modules[__name__])

RTOL = 1e-10  # chunked against in-memory: the bound


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, worker_dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def mixture(rng, n, d, shift=1e6):
    """Two overlapping Gaussians in d dimensions (d=0: 1-D data of shape (n,)), far from 0."""
    dim = max(d, 1)
    first = rng.normal(0.0, 1.0, size=(n * 3 // 5, dim))
    offset = 2.5 / np.sqrt(dim)  # the same distance between the two means in any dimension
    second = rng.normal(0.0, 0.7, size=(n - len(first), dim)) @ np.triu(np.full((dim, dim), 0.3)) + offset
    x = np.concatenate([first, second]) + shift
    truth = np.repeat([0, 1], [len(first), len(second)])
    order = rng.permutation(n)
    x, truth = x[order], truth[order]
    return (x[:, 0] if d == 0 else x), truth


def some_labels(rng, truth, share=0.3):
    return np.where(rng.random(len(truth)) < share, truth, -1)


def on_disk(array, folder, chunks):
    """``array`` written to ``folder`` as one .npy file per chunk of rows (``chunks`` rows each,
    or a tuple of their sizes), read back lazily."""
    da.to_npy_stack(str(folder), da.from_array(array, chunks=(chunks,) + array.shape[1:]))
    return da.from_npy_stack(str(folder))


def assert_same_fit(chunked, in_memory, x, rtol=RTOL):
    """Every iterate of the trace (params and log-likelihood) agrees to ``rtol``; means within
    rtol of the data's spread (they sit near 1e6), covariances within rtol of their largest entry."""
    assert chunked.n_iter == in_memory.n_iter
    assert chunked.converged == in_memory.converged
    assert chunked.stop_reason == in_memory.stop_reason
    assert len(chunked.trace) == len(in_memory.trace)
    spread = float(np.std(x))
    for (p, p_ll), (q, q_ll) in zip(chunked.trace, in_memory.trace):
        np.testing.assert_allclose(p.weights, q.weights, rtol=rtol, atol=0)
        np.testing.assert_allclose(p.means, q.means, rtol=0, atol=rtol * spread)
        np.testing.assert_allclose(p.covariances, q.covariances, rtol=0, atol=rtol * np.abs(q.covariances).max())
        assert abs(p_ll - q_ll) <= rtol * abs(q_ll)
    assert chunked.params is chunked.trace[-1 if chunked.stop_reason != "likelihood_decreased" else -2][0]


def bits(result):
    return [(p.weights.tobytes(), p.means.tobytes(), p.covariances.tobytes(), ll) for p, ll in result.trace]


# ---------------------------------------------------------------------------
# the cluster is real, and runs this emlib
# ---------------------------------------------------------------------------

def test_the_cluster_is_two_worker_processes_on_the_loopback_running_this_emlib(client):
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    assert set(client.run(lambda: __import__("emlib").__file__).values()) == {emlib.__file__}


# ---------------------------------------------------------------------------
# the chunked fit equals the in-memory fit
# ---------------------------------------------------------------------------

# one chunk; even; uneven (the last chunk of 402 rows; a first chunk of 1 row, the reference point)
CHUNKINGS = {0: (3000, 1000, 433), 3: (3000, 700, (1, 1500, 1499))}


@pytest.mark.parametrize("d", [0, 3], ids=["1-D", "3-D"])
@pytest.mark.parametrize("with_labels", [False, True], ids=["unlabelled", "semi-supervised"])
def test_chunked_fit_equals_the_in_memory_fit_for_several_chunkings(client, tmp_path, d, with_labels):
    rng = np.random.default_rng(160 + d)
    x, truth = mixture(rng, 3000, d)
    labels = some_labels(rng, truth) if with_labels else None
    in_memory = emlib.fit_gmm(x, 2, labels=labels, rng=7)  # default init: k-means, or the labels
    assert in_memory.n_iter >= 5  # enough iterates to compare
    for chunks in CHUNKINGS[d]:
        x_on_disk = on_disk(x, tmp_path / f"x{chunks}", chunks)
        labels_on_disk = None if labels is None else on_disk(labels, tmp_path / f"labels{chunks}", chunks)
        chunked = emlib.scale.fit_gmm(x_on_disk, 2, labels=labels_on_disk, rng=7, progress=False)
        assert_same_fit(chunked, in_memory, x)
        if chunks == len(x):  # one chunk: the in-memory fit itself, to the last bit
            assert bits(chunked) == bits(in_memory)


def test_chunked_fit_from_a_given_start_and_from_random_points_equals_the_in_memory_fit(client, tmp_path):
    rng = np.random.default_rng(161)
    x, truth = mixture(rng, 2000, 2)
    x_on_disk = on_disk(x, tmp_path / "x", 300)
    start = emlib.GaussianMixtureParams([0.3, 0.3, 0.4], x[:3], np.repeat(np.cov(x.T)[None], 3, axis=0))
    for init in (start, "random"):
        in_memory = emlib.fit_gmm(x, 3, init=init, rng=3, max_iter=15, reg_covar=1e-3)
        chunked = emlib.scale.fit_gmm(x_on_disk, 3, init=init, rng=3, max_iter=15, reg_covar=1e-3, progress=False)
        assert_same_fit(chunked, in_memory, x)
    assert chunked.expectations.n_points == len(x)
    np.testing.assert_allclose(chunked.expectations.totals.sum(), len(x), rtol=1e-12)


def test_the_reg_covar_floor_holds_a_collapsing_component_as_in_memory(client, tmp_path):
    rng = np.random.default_rng(172)
    x1 = np.concatenate([rng.normal(0.0, 1.0, 1000), np.full(40, 6.0)])  # 40 identical points: a spike
    start1 = emlib.GaussianMixtureParams([0.9, 0.1], [0.0, 6.0], [1.0, 1.0])
    x2 = np.column_stack([x1, np.where(x1 == 6.0, 2.0, rng.normal(size=len(x1)))]) * [1.0, 100.0]
    start2 = emlib.GaussianMixtureParams([0.9, 0.1], [[0.0, 0.0], [6.0, 200.0]], [np.diag([1.0, 1e4])] * 2)
    for x, start, floor in ((x1, start1, 0.05), (x2, start2, np.array([0.05, 500.0]))):  # one floor per dimension in 2-D
        with pytest.warns(emlib.BoundaryEstimateWarning, match="held at the"):  # emlib says so
            in_memory = emlib.fit_gmm(x, 2, init=start, reg_covar=floor)
        spike = np.atleast_2d(in_memory.params.covariances[1])
        assert np.allclose(np.diag(spike), floor, rtol=1e-12)  # the floor is what holds the spike
        with pytest.warns(emlib.BoundaryEstimateWarning, match="held at the"):
            chunked = emlib.scale.fit_gmm(on_disk(x, tmp_path / f"x{x.ndim}", 260), 2, init=start, reg_covar=floor,
                                          progress=False)
        assert_same_fit(chunked, in_memory, x)


def test_semi_supervised_labels_may_be_a_numpy_array(client, tmp_path):
    rng = np.random.default_rng(162)
    x, truth = mixture(rng, 2000, 0)
    labels = some_labels(rng, truth, share=0.1)
    in_memory = emlib.fit_gmm(x, 2, labels=labels, rng=1)
    chunked = emlib.scale.fit_gmm(on_disk(x, tmp_path / "x", 512), 2, labels=labels, rng=1, progress=False)
    assert_same_fit(chunked, in_memory, x)


def test_the_final_statistics_are_those_of_the_final_params_in_memory(client, tmp_path):
    rng = np.random.default_rng(163)
    x, _ = mixture(rng, 1500, 2)
    chunked = emlib.scale.fit_gmm(on_disk(x, tmp_path / "x", 400), 2, rng=2, progress=False)
    responsibilities, _ = emlib.gmm.e_step(x, chunked.params)
    expected = emlib.gmm.sufficient_statistics(x - x[0], responsibilities)  # centred: no digit lost near 1e6
    statistics = chunked.expectations
    np.testing.assert_allclose(statistics.totals, expected.totals, rtol=1e-10)
    np.testing.assert_allclose(statistics.means - x[0], expected.means, rtol=0, atol=1e-10 * np.std(x))
    np.testing.assert_allclose(statistics.scatters, expected.scatters, rtol=0, atol=1e-10 * np.abs(expected.scatters).max())


# ---------------------------------------------------------------------------
# results do not depend on the scheduler, the number of workers, or a lost worker
# ---------------------------------------------------------------------------

def test_same_result_to_the_bit_on_two_workers_one_thread_or_two_threads_and_again(client, tmp_path):
    rng = np.random.default_rng(164)
    x, truth = mixture(rng, 2000, 2)
    labels = some_labels(rng, truth)
    x_on_disk, labels_on_disk = on_disk(x, tmp_path / "x", 300), on_disk(labels, tmp_path / "labels", 300)

    def fit():
        return emlib.scale.fit_gmm(x_on_disk, 2, labels=labels_on_disk, rng=np.random.default_rng(5), progress=False)

    on_the_cluster = fit()
    with dask.config.set(scheduler="synchronous"):  # one worker: this process, one task at a time
        in_one_thread = fit()
    with dask.config.set(scheduler="threads", num_workers=2):
        in_two_threads = fit()
    again = fit()
    assert on_the_cluster.n_iter >= 3
    assert bits(in_one_thread) == bits(on_the_cluster) == bits(in_two_threads) == bits(again)


def _kill_this_worker_once(block, marker):
    """A chunk passes through unchanged, except that the first worker to find ``marker`` (and
    remove it) dies on the spot, in the middle of the E-step, taking its tasks with it."""
    try:
        distributed.get_worker()
    except ValueError:  # not in a worker (never kill the test process)
        return block
    try:
        os.remove(marker)
    except FileNotFoundError:
        return block
    os._exit(1)


def test_a_worker_killed_in_the_middle_of_a_fit_does_not_change_the_result(client, tmp_path):
    rng = np.random.default_rng(165)
    x, _ = mixture(rng, 3000, 2)
    stored = on_disk(x, tmp_path / "x", 250)  # 12 chunks, read again in every iteration
    x_on_disk = da.map_blocks(_kill_this_worker_once, stored, str(tmp_path / "armed"), dtype=stored.dtype)
    undisturbed = emlib.scale.fit_gmm(x_on_disk, 2, rng=4, progress=False)  # no marker: nobody dies
    pids_before = set(client.run(os.getpid).values())
    marker = tmp_path / "armed"

    def arm_at_iteration_3(iteration, params, log_likelihood):
        if iteration == 3:
            marker.touch()  # the next E-step's first chunk kills its worker

    disturbed = emlib.scale.fit_gmm(x_on_disk, 2, rng=4, progress=arm_at_iteration_3)
    assert not marker.exists()  # a worker found it, and died
    client.wait_for_workers(2, timeout=60)  # its nanny starts a new one
    assert set(client.run(os.getpid).values()) != pids_before
    assert disturbed.n_iter > 4  # the kill happened in the middle of the fit
    assert bits(disturbed) == bits(undisturbed)
    assert_same_fit(disturbed, emlib.fit_gmm(x, 2, rng=4), x)


# ---------------------------------------------------------------------------
# initialisation on a seeded sample; the statistics; the pieces a chapter shows
# ---------------------------------------------------------------------------

def test_initialisation_runs_on_a_sample_of_rows_drawn_by_rng(client, tmp_path):
    rng = np.random.default_rng(166)
    x, _ = mixture(rng, 4000, 2)
    x_on_disk = on_disk(x, tmp_path / "x", 1000)
    chunked = emlib.scale.fit_gmm(x_on_disk, 2, rng=np.random.default_rng(9), sample_size=300, max_iter=2,
                                  progress=False)
    expected_rng = np.random.default_rng(9)  # the documented recipe, in memory
    rows = np.sort(expected_rng.choice(len(x), size=300, replace=False))
    z = x - x[0]
    start = emlib.gmm.initial_params(z[rows], 2, "kmeans", reg_covar=1e-6, rng=expected_rng)
    np.testing.assert_array_equal(chunked.trace[0][0].means, start.means + x[0])
    np.testing.assert_array_equal(chunked.trace[0][0].covariances, start.covariances)
    again = emlib.scale.fit_gmm(x_on_disk, 2, rng=np.random.default_rng(9), sample_size=300, max_iter=2,
                                progress=False)
    assert bits(again) == bits(chunked)


def test_merged_statistics_of_pieces_are_exact_for_data_far_from_zero_centred_as_the_fit_does():
    rng = np.random.default_rng(167)
    x = 1e8 + rng.normal(size=(5000, 2)) * [1.0, 1e-3]  # far from 0, and one dimension ill-scaled
    z = x - x[0]  # exact (Sterbenz): the fit centres at its reference point before any statistic
    responsibilities = rng.dirichlet([1.0, 2.0, 3.0], size=len(x))
    pieces = [emlib.gmm.sufficient_statistics(z[a:b], responsibilities[a:b])
              for a, b in ((0, 1), (1, 1200), (1200, 1201), (1201, 5000))]
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = emlib.gmm.merge_statistics(merged, piece)
    # the closed forms, in extended precision, centred at the exact weighted mean
    exact_x, exact_r = z.astype(np.longdouble), responsibilities.astype(np.longdouble)  # z = x - x[0] exactly
    totals = exact_r.sum(axis=0)
    means = (exact_r.T @ exact_x) / totals[:, None]
    scatters = np.stack([(exact_r[:, k, None] * (exact_x - means[k])).T @ (exact_x - means[k]) for k in range(3)])
    assert merged.n_points == len(x)
    np.testing.assert_allclose(merged.totals, totals.astype(float), rtol=1e-13)
    np.testing.assert_allclose(merged.means, means.astype(float), rtol=0, atol=1e-13)
    for k in range(3):  # every entry to 1e-12 of its own scale: the small dimension keeps its digits
        scale = np.sqrt(np.outer(np.diag(scatters[k]), np.diag(scatters[k]))).astype(float)
        assert np.all(np.abs(merged.scatters[k] - scatters[k].astype(float)) <= 1e-12 * scale)


def test_e_step_and_m_step_on_a_dask_array_equal_the_in_memory_ones(client, tmp_path):
    rng = np.random.default_rng(168)
    x, truth = mixture(rng, 2000, 2)  # near 1e6: the chunked E-step centres, as the M-step does
    labels = some_labels(rng, truth)
    params = emlib.GaussianMixtureParams([0.5, 0.5], x[:2], np.repeat(np.cov(x.T)[None], 2, axis=0))
    statistics, log_likelihood = emlib.scale.e_step(on_disk(x, tmp_path / "x", 333), params, labels=labels)
    responsibilities, expected_log_likelihood = emlib.gmm.e_step(x, params, labels=labels)
    assert abs(log_likelihood - expected_log_likelihood) <= 1e-12 * abs(expected_log_likelihood)
    new_params = emlib.scale.m_step(statistics, reg_covar=0.5)  # the floor is in force
    expected = emlib.gmm.m_step(x, responsibilities, reg_covar=0.5)
    np.testing.assert_allclose(new_params.weights, expected.weights, rtol=1e-12)
    np.testing.assert_allclose(new_params.means, expected.means, rtol=0, atol=1e-12 * np.std(x))
    np.testing.assert_allclose(new_params.covariances, expected.covariances, rtol=1e-12)
    first_chunk = x[:333]
    one, one_log_likelihood = emlib.scale.sufficient_statistics(first_chunk, params, labels=labels[:333])
    r, expected_one_log_likelihood = emlib.gmm.e_step(first_chunk, params, labels=labels[:333])
    expected_one = emlib.gmm.sufficient_statistics(first_chunk, r)
    np.testing.assert_allclose(one.scatters, expected_one.scatters, rtol=1e-13)
    assert one_log_likelihood == pytest.approx(expected_one_log_likelihood, rel=1e-13)


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------

def test_progress_reports_every_iterate_with_its_log_likelihood(client, tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(169)
    x, _ = mixture(rng, 1000, 0)
    x_on_disk = on_disk(x, tmp_path / "x", 250)
    seen = []
    result = emlib.scale.fit_gmm(x_on_disk, 2, rng=0, progress=lambda i, p, ll: seen.append((i, p.means, ll)))
    assert [i for i, _, _ in seen] == list(range(result.n_iter + 1))
    assert [ll for _, _, ll in seen] == result.log_likelihoods
    np.testing.assert_array_equal(seen[-1][1], result.params.means)  # in x's coordinates
    emlib.scale.fit_gmm(x_on_disk, 2, rng=0, progress=True)
    shown = capsys.readouterr().err
    assert f"EM iteration {result.n_iter}: log-likelihood {result.log_likelihood:.10g}" in shown
    # the default shows the line only once a fit has run PROGRESS_AFTER_SECONDS (not timed here:
    # a loaded machine may take seconds for this small fit)
    monkeypatch.setattr(emlib.scale, "PROGRESS_AFTER_SECONDS", 3600.0)
    emlib.scale.fit_gmm(x_on_disk, 2, rng=0)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(emlib.scale, "PROGRESS_AFTER_SECONDS", 0.0)
    emlib.scale.fit_gmm(x_on_disk, 2, rng=0)
    assert f"EM iteration {result.n_iter}: log-likelihood" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# bad input: clear ValueErrors, before EM's iterations; nothing modified
# ---------------------------------------------------------------------------

def file_digests(folder):
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(Path(folder).iterdir())}


def test_nan_in_one_chunk_on_disk_is_refused_by_the_first_pass_before_any_iteration(client, tmp_path):
    rng = np.random.default_rng(170)
    x, _ = mixture(rng, 1000, 2)
    x[733, 1] = np.nan
    x_on_disk = on_disk(x, tmp_path / "x", 200)
    digests = file_digests(tmp_path / "x")
    iterations = []
    with pytest.raises(ValueError, match=r"NaN or infinite values in the chunk of rows 600\.\.799, the first in row 733"):
        emlib.scale.fit_gmm(x_on_disk, 2, progress=lambda *args: iterations.append(args))
    assert iterations == []  # not a single E-step was run
    assert file_digests(tmp_path / "x") == digests


def _a_block_of_the_wrong_shape(declared_rows):
    return np.zeros((declared_rows, 3))  # 3 columns where x declares 2


@pytest.mark.parametrize("make_x, message", [
    (lambda: np.zeros((10, 2)), "must be a dask.array.Array"),
    (lambda: da.zeros((10, 2, 2), chunks=5), "shape \\(n,\\) for 1-D data or \\(n, d\\)"),
    (lambda: da.zeros((10, 4), chunks=(5, 2)), "split into 2 chunks along its 4 columns.*rechunk"),
    (lambda: da.zeros((0, 2), chunks=5), "empty"),
    (lambda: da.from_array(np.arange(10.0), chunks=5)[da.from_array(np.arange(10.0), chunks=5) > 2],
     "unknown chunk sizes.*compute_chunk_sizes"),
    (lambda: da.from_array(np.array(["a", "b"]), chunks=1), "must hold numbers"),
    (lambda: da.concatenate([da.zeros((5, 2), chunks=5),
                             da.from_delayed(dask.delayed(_a_block_of_the_wrong_shape)(5), (5, 2), float)]),
     "rows 5..9 has shape \\(5, 3\\), but x declares \\(5, 2\\)"),
])
def test_arrays_emlib_cannot_fit_chunk_by_chunk_are_refused_saying_what_to_do(client, make_x, message):
    with pytest.raises(ValueError, match=message):
        emlib.scale.fit_gmm(make_x(), 2, progress=False)


@pytest.mark.parametrize("settings, message", [
    (dict(n_components=0), "n_components must be at least 1"),
    (dict(n_components=21), "20 points, fewer than n_components=21"),
    (dict(n_components=2, n_init=0), "n_init"),
    (dict(n_components=2, tol=-1.0), "tol"),
    (dict(n_components=2, max_iter=-1), "max_iter"),
    (dict(n_components=2, reg_covar=-1.0), "reg_covar"),
    (dict(n_components=2, init="bogus"), "init must be"),
    (dict(n_components=2, init="labels"), "needs labels"),
    (dict(n_components=3, init=emlib.GaussianMixtureParams([0.5, 0.5], [0.0, 1.0], [1.0, 1.0])), "components"),
    (dict(n_components=2, init=emlib.GaussianMixtureParams([0.5, 0.5], [[0.0, 0], [1, 1]], [np.eye(2)] * 2)),
     "x is 1-D but init is a 2-D mixture"),
    (dict(n_components=2, sample_size=1), "sample_size"),
    (dict(n_components=2, progress="yes"), "progress"),
])
def test_bad_settings_are_refused_before_any_data_are_read(settings, message):
    never_read = da.from_delayed(dask.delayed(_must_not_be_read)(), (20,), float)
    with pytest.raises(ValueError, match=message):
        emlib.scale.fit_gmm(never_read, **settings)


def _must_not_be_read():
    raise AssertionError("the data were read before the settings were checked")


def test_labels_that_do_not_match_the_data_are_refused(client, tmp_path):
    rng = np.random.default_rng(171)
    x, truth = mixture(rng, 600, 0)
    x_on_disk = on_disk(x, tmp_path / "x", 200)
    labels = some_labels(rng, truth)
    with pytest.raises(ValueError, match=r"labels are chunked in 2 chunk\(s\) of \(300, 300\) rows but the rows "
                                         r"of x in 3 chunk\(s\) of \(200, 200, 200\) rows.*rechunk"):
        emlib.scale.fit_gmm(x_on_disk, 2, labels=da.from_array(labels, chunks=300), progress=False)
    with pytest.raises(ValueError, match=r"labels must have shape \(600,\)"):
        emlib.scale.fit_gmm(x_on_disk, 2, labels=labels[:-1], progress=False)
    out_of_range = labels.copy()
    out_of_range[450] = 2
    kept = out_of_range.copy()
    with pytest.raises(ValueError, match=r"labels of the chunk of rows 400\.\.599.*row 50 has 2"):
        emlib.scale.fit_gmm(x_on_disk, 2, labels=on_disk(out_of_range, tmp_path / "labels", 200), progress=False)
    np.testing.assert_array_equal(out_of_range, kept)
    with pytest.raises(ValueError, match="whole numbers"):
        emlib.scale.fit_gmm(x_on_disk, 2, labels=da.from_array(np.full(600, True), chunks=200), progress=False)


def test_a_point_too_far_for_the_given_start_names_its_chunk(client, tmp_path):
    x = np.concatenate([np.zeros(99), [1e9]]) + np.linspace(0, 1, 100)
    start = emlib.GaussianMixtureParams([0.5, 0.5], [0.0, 1.0], [1e-300, 1e-300])
    message = (r"in the chunk of rows 75\.\.99 \(an index below counts from the chunk's first row, x\[75\]\): "
               r"the point at index 24 \(counting from 0\) is too far")
    with pytest.raises(ValueError, match=message):
        emlib.scale.fit_gmm(on_disk(x, tmp_path / "x", 25), 2, init=start, progress=False)


# ---------------------------------------------------------------------------
# the core stays NumPy-only
# ---------------------------------------------------------------------------

def test_emlib_works_without_dask_and_emlib_scale_says_how_to_get_it():
    code = ("import sys; sys.modules['dask'] = None\n"
            "import emlib, numpy as np\n"
            "assert emlib.fit_gmm(np.r_[np.zeros(5), np.ones(5)] + np.arange(10) / 100, 2, rng=0).converged\n"
            "try:\n    import emlib.scale\nexcept ImportError as error:\n    print(error)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert 'pip install "emlib[scale]"' in run.stdout
