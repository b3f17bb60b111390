"""Timing shared by the benchmark scripts: medians of interleaved runs."""
import statistics
import time


def measure(funcs, repeat, alone=()):
    """Median seconds of each function after one warm-up call.

    The functions run round-robin, so that a noisy neighbour slows every contender alike; those
    named in ``alone`` run after the others, one after another (numpy's argmax along axis 0 copies
    the whole array, and freeing that copy slowed whichever function ran next).
    """
    times = {name: [] for name in funcs}
    for f in funcs.values():  # warm up (and check it runs)
        f()
    shared = [n for n in funcs if n not in alone]
    rounds = [shared] * repeat + [[n] * repeat for n in funcs if n in alone]
    for names in rounds:
        for name in names:
            t0 = time.perf_counter()
            funcs[name]()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}
