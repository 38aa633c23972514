#!/usr/bin/env python
"""Side-by-side benchmark: flowgrad vs NumPy, PyTorch, TensorFlow and JAX.

Run everything that is installed (each framework in its own subprocess):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py

(this machine's environment sets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE, which pin numpy's
OpenBLAS to slower Haswell kernels; unset them *for the benchmark command only*.)

Options:
    --only W2,W3             workloads (W0..W5, MEM); default all
    --frameworks torch,jax   numpy, flowgrad, torch, tf (= tensorflow), jax; default all
    --reps N                 timed repetitions per variant (median reported)
    --quick                  shorter timing windows, fewer reps and memory steps
    --json out.json          also write all raw results as JSON
    --md out.md              also write the markdown report to a file
    --torch-flush-denormal   additionally run PyTorch with torch.set_flush_denormal(True)
    --timeout S              per-subprocess time limit (default 900 s)

Workloads (float32, synthetic MNIST-shaped data, fixed seed; see README.md):
    W0  wall time of `python -c "import X; one small op"` (median of reps); flowgrad's
        bytecode is compiled first, as pip does for installed packages
    W1  J = w^2 - 10w + 25, gradient descent lr 0.01: us per training step
    W2  dense 784-200-100-60-30-10, ReLU, softmax xent, Adam, batch 100: steps/s
    W3  CNN (6x6x1->6 s1, 5x5x6->12 s2, 4x4x12->24 s2, FC200, dropout .25, FC10): steps/s
    W4  W3's forward over 10,000 images in batches of 1,000: images/s
    W5  eager c = c + b on 10x10 tensors: us per op
    MEM peak RSS of a process training W3 for N steps
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

FRAMEWORKS = ["numpy", "flowgrad", "torch", "tf", "jax"]
ALIASES = {"tensorflow": "tf", "pytorch": "torch", "np": "numpy"}
DIST = {"numpy": "numpy", "flowgrad": "flowgrad", "torch": "torch",
        "tf": "tensorflow-cpu", "jax": "jax"}
LABEL = {"numpy": "NumPy", "flowgrad": "flowgrad", "torch": "PyTorch", "tf": "TensorFlow",
         "jax": "JAX"}
WORKLOADS = ["W0", "W1", "W2", "W3", "W4", "W5", "MEM"]
MARK = "@@RESULT@@ "

# workload -> (title, unit, higher_is_better, scale from seconds-per-call)
METRIC = {
    "W0": ("import + one op (wall)", "s", False, 1.0),
    "W1": ("course program J=w^2-10w+25, one GD step", "us/step", False, 1e6),
    "W2": ("dense 784-200-100-60-30-10, Adam, batch 100", "steps/s", True, 1.0),
    "W3": ("CNN 3 conv + FC200 + dropout, Adam, batch 100", "steps/s", True, 1.0),
    "W4": ("CNN forward, 10k images in batches of 1k", "images/s", True, 10_000.0),
    "W5": ("eager c = c + b, 10x10", "us/op", False, 1e6),
    "MEM": ("peak RSS training W3", "MB", False, 1.0),
}


def child_env(extra=None):
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")      # logging only
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [env.get("PYTHONPATH", ""), ROOT] if p)  # working tree's flowgrad
    env.update(extra or {})
    return env


def run_child(cmd, timeout, env, tag):
    """Runs a worker; streams its progress lines; returns the parsed result dict."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=ROOT)
    err_lines = []

    def pump():
        for line in p.stderr:
            err_lines.append(line)
            if line.startswith("["):
                sys.stderr.write("  " + line)
                sys.stderr.flush()
    th = threading.Thread(target=pump, daemon=True)
    th.start()
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return {"status": "n/a", "reason": "timed out after %ds" % timeout}
    th.join(5)
    for line in out.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    tail = "".join(err_lines[-5:]).strip().replace("\n", " | ")
    return {"status": "error", "reason": "%s exited %s without a result: %s" % (
        tag, p.returncode, tail[-400:])}


# ---------------------------------------------------------------- W0

def w0(fw, reps):
    try:
        mod_src = {"numpy": "impl_numpy", "flowgrad": "impl_flowgrad", "torch": "impl_torch",
                   "tf": "impl_tf", "jax": "impl_jax"}[fw]
        # the snippet lives in the impl module; read it without importing the framework
        snippet = _read_snippet(os.path.join(HERE, mod_src + ".py"))
    except Exception as e:
        return {"status": "error", "reason": str(e)}
    env = child_env()
    if fw == "flowgrad":
        _byte_compile(os.path.join(ROOT, "flowgrad"))
    return _time_cmd([sys.executable, "-c", snippet], env, reps, snippet)


def _byte_compile(package_dir):
    """Writes the working tree's ``__pycache__``, as ``pip install`` does for every installed
    package. Without it, an editable checkout under PYTHONDONTWRITEBYTECODE=1 (this machine's
    environment) recompiles flowgrad from source on every start: 30-50 ms of W0 that no
    installed framework pays."""
    import compileall
    compileall.compile_dir(package_dir, quiet=1)


def _time_cmd(cmd, env, reps, note):
    """Median wall time of a command over `reps` runs on a quiet machine (runs while
    other processes used > common.CONTENDED cores are redone, up to 3x reps)."""
    import common
    quiet, noisy = [], []
    first = True                               # first run warms the file cache: discarded
    last = 0.0
    waited = 0.0
    while len(quiet) < reps and len(quiet) + len(noisy) < 3 * reps:
        if common.WAIT_QUIET and last >= common.CONTENDED and waited < 3 * common.WAIT_QUIET:
            waited += common.wait_quiet()
        with common.Contention() as c:
            t0 = time.perf_counter()
            r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            dt = time.perf_counter() - t0
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["?"])[-1]
            return {"status": "n/a", "reason": "`%s` failed: %s" % (note, last[:200])}
        last = c.cores
        if first:
            first = False
            continue
        (quiet if c.cores < common.CONTENDED else noisy).append(dt)
    samples = quiet if len(quiet) >= max(1, (reps + 1) // 2) else quiet + noisy
    return {"status": "ok", "sec_per_call": statistics.median(samples), "samples": samples,
            "note": note, "contended": samples is not quiet,
            "discarded_reps": len(noisy) if samples is quiet else 0}


def _read_snippet(path):
    import ast
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "w0_snippet":
            return ast.literal_eval(node.body[-1].value)
    raise ValueError("no w0_snippet in %s" % path)


def w0_baseline(reps):
    return _time_cmd([sys.executable, "-c", "pass"], child_env(), reps,
                     "python -c pass (interpreter start-up alone)")


# ---------------------------------------------------------------- machine

def machine_info():
    info = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "L2 cache",
                             "L3 cache"):
                info[k.strip()] = v.strip()
        flags = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile")
                 if f in out.split()]
        info["isa"] = " ".join(flags)
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["memory"] = "%.1f GiB" % (int(f.readline().split()[1]) / 2**20)
    except OSError:
        pass
    try:
        info["loadavg at start"] = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass
    from importlib import metadata
    vers = {}
    for fw, dist in DIST.items():
        for d in ([dist, "tensorflow"] if fw == "tf" else [dist]):
            try:
                vers[fw] = metadata.version(d)
                break
            except metadata.PackageNotFoundError:
                vers[fw] = "not installed"
    for extra in ("jaxlib", "optax", "keras", "threadpoolctl", "psutil"):
        try:
            vers[extra] = metadata.version(extra)
        except metadata.PackageNotFoundError:
            vers[extra] = "not installed"
    info["versions"] = vers
    info["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    info["OPENBLAS_L2_SIZE"] = os.environ.get("OPENBLAS_L2_SIZE", "(unset)")
    import common
    info["numpy BLAS"] = common.blas_summary()
    info["subnormal penalty"] = common.subnormal_penalty()
    return info


# ---------------------------------------------------------------- report

def rows_from(results):
    """Flattens results into rows (workload, framework, variant, value, entry)."""
    rows = []
    for wl in WORKLOADS:
        for fw, fres in results.get(wl, {}).items():
            for variant, e in fres.items():
                rows.append((wl, fw, variant, e))
    return rows


def value_of(wl, e):
    if e.get("status") != "ok":
        return None
    if wl == "MEM":
        return e["peak_rss_mb"]
    _, _, higher, scale = METRIC[wl]
    s = e["sec_per_call"]
    return scale / s if higher else s * scale


def cost(wl, v):
    return 1.0 / v if METRIC[wl][2] else v


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 1000:
        return "{:,.0f}".format(v)
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.3f" % v


def spread(e):
    s = e.get("samples")
    if not s or len(s) < 2:
        return ""
    med = statistics.median(s)
    return "±%.0f%%" % (100 * (max(s) - min(s)) / 2 / med)


def markdown(results, machine, infos, args):
    L = []
    L.append("## Machine\n")
    L.append("| | |")
    L.append("|---|---|")
    for k in ("Model name", "CPU(s)", "Thread(s) per core", "L2 cache", "L3 cache", "isa",
              "memory", "python", "platform", "loadavg at start", "loadavg at end"):
        if k in machine:
            L.append("| %s | %s |" % (k, machine[k]))
    v = machine.get("versions", {})
    L.append("| versions | %s |" % ", ".join("%s %s" % kv for kv in v.items()))
    L.append("| numpy BLAS | %s |" % machine.get("numpy BLAS"))
    L.append("| subnormal-input slowdown (NumPy, 1M float32) | %s |" % machine.get(
        "subnormal penalty"))
    L.append("| OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE | %s / %s%s |" % (
        machine["OPENBLAS_CORETYPE"], machine["OPENBLAS_L2_SIZE"],
        "" if machine["OPENBLAS_CORETYPE"] == "(unset)" else
        " **(set: numpy runs slower kernels; rerun with "
        "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`)**"))
    L.append("| run | reps=%d%s, --wait-quiet %gs, each framework in its own subprocess, "
             "total %s |" % (args.reps, ", --quick" if args.quick else "", args.wait_quiet,
                             machine.get("total runtime", "?")))
    L.append("")
    L.append("## Frameworks\n")
    L.append("| framework | details |")
    L.append("|---|---|")
    for fw, inf in infos.items():
        if isinstance(inf, dict):
            L.append("| %s | %s |" % (LABEL.get(fw, fw), "; ".join(
                "%s: %s" % kv for kv in inf.items() if kv[0] != "denormals")))
    L.append("")
    L.append("## Denormals (framework defaults, measured; nothing changed unless noted)\n")
    L.append("| framework | denormal handling |")
    L.append("|---|---|")
    for fw, inf in infos.items():
        d = inf.get("denormals") if isinstance(inf, dict) else None
        if d is None:
            continue
        if isinstance(d, dict):
            d = "; ".join("%s: %s" % kv for kv in d.items())
        L.append("| %s | %s |" % (LABEL.get(fw, fw), d))
    L.append("")
    L.append("## Results\n")
    L.append("Medians over repetitions; `vs best` = this row's cost / the best row's cost "
             "(1.00 = best; cost = time per unit of work, or MB); `flowgrad / best other` "
             "compares each flowgrad row with the best non-flowgrad row of the workload.\n")
    L.append("| workload | framework | variant | result | unit | spread | vs best | "
             "flowgrad / best other | notes |")
    L.append("|---|---|---|---:|---|---:|---:|---:|---|")
    rows = rows_from(results)
    na = []
    for wl in WORKLOADS:
        wrows = [r for r in rows if r[0] == wl]
        if not wrows:
            continue
        vals = [(r, value_of(wl, r[3])) for r in wrows]
        ok = [(r, v) for r, v in vals if v is not None]
        best = min((cost(wl, v) for _, v in ok), default=None)
        best_other = min((cost(wl, v) for r, v in ok if r[1] != "flowgrad"), default=None)
        title, unit, higher, _ = METRIC[wl]
        for r, v in vals:
            _, fw, variant, e = r
            if v is None:
                na.append((wl, fw, variant, e.get("reason", e.get("status"))))
                L.append("| %s | %s | %s | n/a | %s | | | | see below |" % (
                    wl, LABEL.get(fw, fw), variant, unit))
                continue
            rel = "%.2f" % (cost(wl, v) / best) if best else ""
            fgr = ("**%.2f**" % (cost(wl, v) / best_other)
                   if fw == "flowgrad" and best_other else "")
            notes = []
            if e.get("note"):
                notes.append(e["note"] if wl != "W0" else "`%s`" % e["note"])
            if wl == "MEM":
                notes.append("%s, %d steps; before training %.0f MB, training +%.0f MB" % (
                    e["variant"], e["steps"], e["before_training_peak_mb"],
                    e["training_delta_mb"]))
            if e.get("contended"):
                b = e.get("best_sec_per_call")
                best_txt = ""
                if b and wl != "MEM":
                    bv = METRIC[wl][3] / b if METRIC[wl][2] else b * METRIC[wl][3]
                    best_txt = " (best rep %s)" % fmt(bv)
                notes.append("**contended**: other processes were busy in most reps%s"
                             % best_txt)
            elif e.get("discarded_reps"):
                notes.append("%d contended reps redone" % e["discarded_reps"])
            if e.get("first_call_s", 0) > 0.5:
                notes.append("first call %.1fs" % e["first_call_s"])
            if e.get("check") is not None:
                notes.append("check %.5f" % e["check"])
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                wl, LABEL.get(fw, fw), variant, fmt(v), unit, spread(e), rel, fgr,
                "; ".join(notes)))
    L.append("")
    L.append("Workloads: " + "; ".join("%s = %s" % (k, METRIC[k][0]) for k in WORKLOADS))
    L.append("")
    if na:
        L.append("## Not measured\n")
        for wl, fw, variant, reason in na:
            L.append("- %s %s %s: %s" % (wl, LABEL.get(fw, fw), variant, reason))
        L.append("")
    L.append("`check` = W1: w after 5 steps; W2: loss on batch 0 after 5 steps; W4: loss "
             "on the first 1,000 images; equal values mean the frameworks compute the same "
             "function (TensorFlow's Adam puts epsilon on the bias-uncorrected sqrt(v), "
             "hence its W2 check differs in the 3rd decimal).")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--md")
    ap.add_argument("--memory-steps", type=int, default=None)
    ap.add_argument("--torch-flush-denormal", action="store_true")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--wait-quiet", type=float, default=20.0,
                    help="seconds to wait for other processes to go quiet before each "
                         "timed repetition that follows a contended one (0 = never)")
    args = ap.parse_args(argv)
    if args.reps is None:
        args.reps = 3 if args.quick else 5
    mem_steps = args.memory_steps or (30 if args.quick else 100)
    only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    bad = [w for w in only if w not in WORKLOADS]
    fws = [ALIASES.get(f.strip().lower(), f.strip().lower())
           for f in args.frameworks.split(",") if f.strip()]
    bad += [f for f in fws if f not in FRAMEWORKS]
    if bad:
        ap.error("unknown: %s" % ", ".join(bad))

    t_start = time.time()
    os.environ["BENCH_WAIT_QUIET"] = str(args.wait_quiet)
    import common
    common.WAIT_QUIET = args.wait_quiet
    machine = machine_info()
    print("numpy BLAS: %s" % machine["numpy BLAS"], file=sys.stderr)
    if machine["OPENBLAS_CORETYPE"] != "(unset)" or machine["OPENBLAS_L2_SIZE"] != "(unset)":
        print("WARNING: OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s are set and slow numpy; "
              "benchmark with: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
              "benchmarks/run.py" % (machine["OPENBLAS_CORETYPE"], machine["OPENBLAS_L2_SIZE"]),
              file=sys.stderr)

    results = {}
    infos = {}
    if "W0" in only:
        print("W0: import + one op ...", file=sys.stderr)
        results["W0"] = {"python": {"-c pass": w0_baseline(args.reps)}}
        for fw in fws:
            results["W0"][fw] = {"import + op": w0(fw, args.reps)}
            print("  [W0] %s: %s" % (fw, results["W0"][fw]["import + op"].get("status")),
                  file=sys.stderr)

    bench_wls = [w for w in only if w in ("W1", "W2", "W3", "W4", "W5")]
    runs = [(fw, {}) for fw in fws]
    if args.torch_flush_denormal and "torch" in fws:
        runs.append(("torch", {"BENCH_TORCH_FLUSH_DENORMAL": "1"}))
    if bench_wls:
        for fw, extra in runs:
            common.wait_quiet()
            print("%s: %s ..." % (fw, ",".join(bench_wls)), file=sys.stderr)
            cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--impl", fw,
                   "--workloads", ",".join(bench_wls), "--reps", str(args.reps)]
            if args.quick:
                cmd.append("--quick")
            r = run_child(cmd, args.timeout, child_env(extra), fw)
            if r.get("info") and not extra:
                infos[fw] = r["info"]
            for wl in bench_wls:
                dest = results.setdefault(wl, {}).setdefault(fw, {})
                if r.get("status") != "ok":
                    dest["(all)"] = {"status": r.get("status"), "reason": r.get("reason")}
                    continue
                for variant, e in r["results"].get(wl, {}).items():
                    dest[variant] = e
    if "MEM" in only:
        for fw in fws:
            common.wait_quiet()
            print("%s: MEM (%d W3 steps) ..." % (fw, mem_steps), file=sys.stderr)
            cmd = [sys.executable, os.path.join(HERE, "worker.py"), "--impl", fw,
                   "--mode", "memory", "--steps", str(mem_steps)]
            r = run_child(cmd, args.timeout, child_env(), fw)
            if r.get("info") and fw not in infos:
                infos[fw] = r["info"]
            m = r.get("memory") if r.get("status") == "ok" else r
            results.setdefault("MEM", {})[fw] = {"peak RSS": m}
    try:
        machine["loadavg at end"] = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        pass
    machine["total runtime"] = "%.0f s" % (time.time() - t_start)
    md = markdown(results, machine, infos, args)
    print(md)
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "infos": infos, "results": results,
                       "args": vars(args)}, f, indent=1, default=str)
    print("total runtime %s" % machine["total runtime"], file=sys.stderr)


if __name__ == "__main__":
    main()
