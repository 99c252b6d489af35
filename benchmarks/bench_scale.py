"""Benchmark: emlib.scale's chunked EM on data on disk, against in-memory emlib, per core.

For 1-D and 10-D Gaussian-mixture data stored on disk in chunks of rows (NumPy .npy files,
``da.from_npy_stack``), larger than the memory the fit's workers may use, the script runs
``emlib.scale.fit_gmm`` on a LocalCluster of worker processes (one thread each, a memory
limit each) and reports

* the first pass (checks, the data's scale, the initialisation sample) and the time per EM
  iteration (median of the iterations after the first);
* rows per second per core, against in-memory ``emlib.fit_gmm`` (one thread: per core) on
  the largest size that fits in memory comfortably;
* the peak memory (maxrss) of the client and of each worker, against the chunk's size and
  the data's size.

Goals (issue 16): per-core throughput at least 70% of in-memory emlib's; peak memory set by
the chunk size, not the data size.

The data are written once into the folder given on the command line (a subfolder per case,
made chunk by chunk by the cluster from seeded generators) and reused by later runs. The
full run writes 3e8 1-D rows (2.4 GB) and 1e8 10-D rows (8 GB) in float64: check the free
space first (the script does, and refuses if there is not enough; use --float32 or --rows).

Run from the repository's root:
    .venv/bin/python benchmarks/bench_scale.py /path/to/data-folder            (the full run)
    .venv/bin/python benchmarks/bench_scale.py /path/to/data-folder --quick    (1e7 rows)
Other programs running on the machine slow it down: the load average is printed.
"""
import argparse
import os
import pickle
import platform
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import emlib
import emlib.scale

import dask
import dask.array as da
import distributed
from threadpoolctl import threadpool_limits

# (name, d where 0 means 1-D data of shape (n,), K, rows in the full run, rows per chunk, rows in memory)
CASES = [
    ("1-D", 0, 2, 300_000_000, 4_000_000, 20_000_000),
    ("10-D", 10, 3, 100_000_000, 500_000, 2_000_000),
]
QUICK_ROWS = 10_000_000


def machine():
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, Dask {dask.__version__}, distributed {distributed.__version__}")


def load_average():
    return "load average (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


def true_mixture(d, k):
    """The mixture the data are drawn from: K components, means about 3 apart, unit-ish covariances."""
    rng = np.random.default_rng(2026)
    dim = max(d, 1)
    means = rng.normal(scale=3.0 / np.sqrt(dim), size=(k, dim))
    scales = rng.uniform(0.5, 1.5, size=(k, dim))
    return means, scales


def make_chunk(index, rows, d, k, dtype):
    """Chunk ``index`` of the data: ``rows`` rows from its own seeded generator."""
    rng = np.random.default_rng([2026, index])
    means, scales = true_mixture(d, k)
    z = rng.integers(k, size=rows)
    x = means[z] + rng.standard_normal((rows, max(d, 1))) * scales[z]
    return (x[:, 0] if d == 0 else x).astype(dtype)


def chunk_sizes(n_rows, chunk_rows):
    sizes = [chunk_rows] * (n_rows // chunk_rows)
    if n_rows % chunk_rows:
        sizes.append(n_rows % chunk_rows)
    return tuple(sizes)


def stored_data(folder, d, k, n_rows, chunk_rows, dtype):
    """The data of one case in ``folder`` (written now unless a complete copy is there)."""
    done = folder / "COMPLETE"
    sizes = chunk_sizes(n_rows, chunk_rows)
    wanted = {"rows": n_rows, "chunks": sizes, "d": d, "k": k, "dtype": np.dtype(dtype).str}
    if done.exists() and pickle.loads(done.read_bytes()) == wanted:
        return da.from_npy_stack(str(folder))
    if folder.exists():
        shutil.rmtree(folder)
    shape_tail = () if d == 0 else (d,)
    blocks = [da.from_delayed(dask.delayed(make_chunk)(i, rows, d, k, dtype), (rows,) + shape_tail, dtype)
              for i, rows in enumerate(sizes)]
    x = da.concatenate(blocks)
    start = time.perf_counter()
    da.to_npy_stack(str(folder), x)
    done.write_bytes(pickle.dumps(wanted))
    print(f"  wrote {n_rows:,} rows ({bytes_text(x.nbytes)}) to {folder} in {time.perf_counter() - start:.0f} s")
    return da.from_npy_stack(str(folder))


def bytes_text(n):
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def peak_rss():
    """This process's peak resident memory, in bytes (Linux: ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rough_start(d, k):
    """The same rough θ(0) for both fits (as bench_gmm.py's): equal weights, K rows of the first
    chunk as means, that chunk's covariance for every component; EM climbs from it for many
    iterations, so that every timed iteration is a full one."""
    sample = make_chunk(0, 10_000, d, k, np.float64)
    means = sample[np.random.default_rng(1).choice(len(sample), size=k, replace=False)]
    spread = sample.var() if d == 0 else np.cov(sample, rowvar=False)
    return emlib.GaussianMixtureParams(np.full(k, 1 / k), means, np.repeat(np.asarray(spread)[None], k, axis=0))


def cpu_seconds():
    """The CPU time this process has used so far (user + system), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def chunked_fit(x, k, iterations, memory_limit, n_workers):
    """The chunked fit on a fresh cluster: (first pass and θ(0) in s, seconds per iteration, CPU
    seconds per iteration of all processes (workers, and the client with the scheduler), result,
    peak memory of every worker)."""
    cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, memory_limit=memory_limit)
    client = distributed.Client(cluster)
    try:
        stamps = []
        start = time.perf_counter()
        d = 0 if x.ndim == 1 else x.shape[1]
        result = emlib.scale.fit_gmm(x, k, init=rough_start(d, k), rng=0, tol=0.0, max_iter=iterations,
                                     reg_covar=1e-6, progress=_stamping(stamps, client))
        print(file=sys.stderr)
        walls, cpus = np.array(stamps).T
        first = walls[0] - start
        per_iteration = statistics.median(np.diff(walls))
        cpu_per_iteration = statistics.median(np.diff(cpus))
        workers = sorted(client.run(peak_rss).values())
        return first, per_iteration, cpu_per_iteration, result, workers
    finally:
        client.close()
        cluster.close()


def _stamping(stamps, client):
    """A progress callable that shows the progress line and records, after every iterate, the
    time and the CPU seconds used so far by the workers and by this process (client, scheduler)."""
    show, _ = emlib.scale._progress_line(0.0, sys.stderr)

    def stamp(iteration, params, log_likelihood):
        stamps.append((time.perf_counter(), sum(client.run(cpu_seconds).values()) + cpu_seconds()))
        show(iteration, params, log_likelihood)
    return stamp


def in_memory_seconds_per_iteration(d, k, n_rows, iterations):
    """In-memory emlib on n_rows with one BLAS thread (one core): the median time and CPU time
    per iteration of emlib.fit_gmm's own loop (emlib.em with its E-step and M-step on the
    centred data, as fit_gmm runs it), from the same start as the chunked fit."""
    x = np.concatenate([make_chunk(i, rows, d, k, np.float64) for i, rows in enumerate(chunk_sizes(n_rows, 1_000_000))])
    z = x - x[0]
    data_scale = emlib.gmm._data_scale(z)
    stamps = []
    with threadpool_limits(1):
        emlib.em(z, emlib.gmm._moved(rough_start(d, k), -x[0]), lambda data, params: emlib.gmm._e_step(data, params, None),
                 lambda data, responsibilities: emlib.gmm._m_step(data, responsibilities, 1e-6, data_scale),
                 tol=0.0, max_iter=iterations, callback=lambda *_: stamps.append((time.perf_counter(), cpu_seconds())))
    walls, cpus = np.array(stamps).T
    return statistics.median(np.diff(walls)), statistics.median(np.diff(cpus))


def free_bytes(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(folder).free


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the data are written (once) and read")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows per case (a fast look)")
    parser.add_argument("--rows", type=int, help="rows per case (instead of the full run's)")
    parser.add_argument("--float32", action="store_true", help="store float32 on disk (half the space)")
    parser.add_argument("--iterations", type=int, default=4, help="EM iterations per fit")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one thread each)")
    parser.add_argument("--memory-limit", default="1GiB", help="memory limit of each worker")
    parser.add_argument("--cases", default="1-D,10-D", help="which cases, e.g. 10-D")
    args = parser.parse_args()
    dtype = np.float32 if args.float32 else np.float64
    chosen = [case for case in CASES if case[0] in args.cases.split(",")]
    rows_of = {name: args.rows or (QUICK_ROWS if args.quick else rows) for name, _, _, rows, _, _ in chosen}
    needed = sum(rows_of[name] * max(d, 1) * np.dtype(dtype).itemsize for name, d, *_ in chosen)
    print(machine())
    print(load_average())
    print(f"data: {bytes_text(needed)} on disk in {args.folder} ({bytes_text(free_bytes(args.folder))} free); "
          f"{args.workers} workers x 1 thread, memory limit {args.memory_limit} each; {args.iterations} iterations\n")
    if needed > 0.8 * free_bytes(args.folder) and not all((args.folder / c[0] / "COMPLETE").exists() for c in chosen):
        sys.exit(f"not enough free space for {bytes_text(needed)}: free some, use --float32, or fewer --rows.")
    rows = []
    for name, d, k, _, chunk_rows, memory_rows in chosen:  # the chunked fits first: the client's peak is theirs
        n_rows = rows_of[name]
        print(f"{name}, K={k}: {n_rows:,} rows in chunks of {chunk_rows:,}")
        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None) as cluster, distributed.Client(cluster):
            x = stored_data(args.folder / name, d, k, n_rows, chunk_rows, dtype)
        first, per_iteration, cpu, result, workers = chunked_fit(x, k, args.iterations, args.memory_limit, args.workers)
        chunk_bytes = chunk_rows * max(d, 1) * 8
        rows.append([name, k, n_rows, x.nbytes, chunk_bytes, first, per_iteration, n_rows / per_iteration / args.workers,
                     n_rows / cpu, None, None, None, peak_rss(), workers])
        print(f"  log-likelihood after {result.n_iter} iterations: {result.log_likelihood:.6g}; {load_average()}")
    print("\nin-memory emlib, one thread:")
    for row, (name, d, k, _, _, memory_rows) in zip(rows, chosen):
        row[9] = min(memory_rows, row[2])
        wall, cpu = in_memory_seconds_per_iteration(d, k, row[9], args.iterations)
        row[10], row[11] = row[9] / wall, row[9] / cpu
        print(f"  {name}: {row[10]:,.0f} rows/s ({row[11]:,.0f} per CPU second) on {row[9]:,} rows; {load_average()}")
    print()
    print_table(rows)


def print_table(rows):
    print(f"{'case':<6}{'rows':>13}{'on disk':>11}{'chunk':>9}{'1st pass':>9}{'s/iter':>8}"
          f"{'rows/s/core':>13}{'rows/cpu-s':>12}{'in memory: n':>14}{'rows/s':>12}{'rows/cpu-s':>12}"
          f"{'ratio wall':>11}{'ratio cpu':>10}{'client peak':>13}{'worker peaks':>22}")
    for (name, k, n_rows, nbytes, chunk_bytes, first, per_iteration, throughput, per_cpu, memory_rows,
         memory_throughput, memory_per_cpu, client_peak, workers) in rows:
        print(f"{name:<6}{n_rows:>13,}{bytes_text(nbytes):>11}{bytes_text(chunk_bytes):>9}{first:>8.1f}s"
              f"{per_iteration:>8.2f}{throughput:>13,.0f}{per_cpu:>12,.0f}{memory_rows:>14,}{memory_throughput:>12,.0f}"
              f"{memory_per_cpu:>12,.0f}{throughput / memory_throughput:>11.0%}{per_cpu / memory_per_cpu:>10.0%}"
              f"{bytes_text(client_peak):>13}{', '.join(bytes_text(w) for w in workers):>22}")
    print("\nrows/s/core: rows per second and per worker process (one thread each) in one EM iteration (median);")
    print("rows/cpu-s: rows per CPU second of all the processes (workers, and the client with the scheduler),")
    print("which other programs on the machine do not change much. In memory: emlib.fit_gmm's loop on the size")
    print("shown, one BLAS thread. Peaks: maxrss of each process (the chunk's size bounds the workers').")


if __name__ == "__main__":
    main()
