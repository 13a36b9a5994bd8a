# locust-planton's headless run wrapper (README "Results and thresholds"). The same text runs in
# the master pod (`python -c`, the container's command) and under `local`:
#   python -c WRAPPER RESULTS_DIR CONFIG_JSON LOCUST_ARGS...
# CONFIG_JSON is {"name": <metadata.name>, "thresholds": <spec.loadTest.run.thresholds>} and,
# when the spec sets them, "abortEarly", "warmUpSeconds" and "baseline" (tolerances, recorded).
# Locust's arguments start its run by themselves: `--headless`, or with the web UI on
# `--autostart --autoquit N` (Locust stops the run at --run-time, serves its statistics N more
# seconds, then quits); either way the wrapper waits for Locust to exit.
# It empties RESULTS_DIR, runs Locust with the HTML report and CSVs written there and MONITOR
# loaded into the master (the load generator's health, early abort), judges the thresholds on the
# aggregated statistics and the generator's validity, writes summary.json (with a `verdict`:
# passed, failed or invalid; `regressed` is decided against a baseline by locust-planton itself)
# and junit.xml, prints one `locust-planton-result {...}` line and then stays up (SIGTERM ends
# it), so a Deployment does not start the test again and the result stays in the log.
#   python -c WRAPPER --evaluate RESULTS_DIR CONFIG_JSON LOCUST_EXIT_CODE
# only judges existing CSVs (tests).
import csv, datetime, json, os, signal, socket, subprocess, sys, time
from xml.sax.saxutils import escape, quoteattr

PREFIX = "locust"
MARKER = "locust-planton-result "
# Exit codes of the verdicts (README "Exit codes"); Locust's own errors (2, 3) pass through.
EXIT_FAILED, EXIT_INVALID = 1, 6
# Locust warns when a process uses more CPU than this (percent of one core): its measurements
# then describe the load generator, not the target.
CPU_SATURATED = 90.0
MONITOR_FILE = ".generator.json"

# CPU demand of this process: the share of the last interval its threads ran or waited for a
# CPU (Linux schedstat: run and run-queue wait time). Locust's CPU percentage counts running only,
# so a worker starved by its neighbours or by a CPU limit shows, say, 30 % while it never had
# time to spare; its demand is near 100 % all the same. Shared by the worker and master texts.
DEMAND = r"""
import glob, time


def schedstat_ns():
    total = 0
    for path in glob.glob("/proc/self/task/*/schedstat"):
        try:
            with open(path) as f:
                run, wait = f.read().split()[:2]
            total += int(run) + int(wait)
        except (OSError, ValueError):
            pass
    return total


class Demand:
    def __init__(self):
        self.last = (schedstat_ns(), time.monotonic())

    def percent(self):
        now = (schedstat_ns(), time.monotonic())
        used, wall = now[0] - self.last[0], now[1] - self.last[1]
        self.last = now
        return round(used / 1e9 / wall * 100, 1) if wall > 0 else 0.0
"""

# Runs Locust in a worker's process measuring its CPU every second (Locust's default is every
# 5 s; the worker reports it in its heartbeats) and sending its CPU demand to the master once a
# second while the test runs.
WORKER = DEMAND + r"""
import sys
import locust.runners
import gevent
from locust import events
locust.runners.CPU_MONITOR_INTERVAL = 1.0


def report(env):
    demand = Demand()
    while True:
        gevent.sleep(1)
        percent = demand.percent()
        runner = env.runner
        if runner is not None and runner.state in ("spawning", "running"):
            runner.send_message("locust_planton_demand", {"percent": percent})


@events.init.add_listener
def _init(environment, **_):
    if isinstance(environment.runner, locust.runners.WorkerRunner):
        gevent.spawn(report, environment)


sys.argv = ["locust"] + sys.argv[1:]
from locust.main import main
main()
"""

# Runs Locust in the master's process with listeners that sample the load generator once a
# second while the test runs: the master's and each worker's CPU (as the workers report it in
# their heartbeats), the workers connected and those lost (missing heartbeats, or gone), and with
# `abortEarly` the thresholds on the aggregated statistics after the warm-up: a breach stops the
# run as --run-time would (headless, or with the web UI on: --autostart/--autoquit). What it saw
# is written to MONITOR_FILE when Locust quits.
MONITOR = DEMAND + r"""
import json, os, sys, time
import locust
import gevent
from locust import events

import locust.runners
# Locust measures its CPU every 5 s; every second makes short runs judgeable too.
locust.runners.CPU_MONITOR_INTERVAL = 1.0
CFG = json.loads(os.environ.pop("LOCUST_PLANTON_MONITOR"))
SEEN = {"workers": {}, "lost": [], "connected": 0, "masterMaxCpu": 0.0, "masterMaxDemand": 0.0,
        "abort": None, "started": None}


def worker(wid):
    return SEEN["workers"].setdefault(wid, {"id": wid, "maxCpuPercent": 0.0, "cpu": [],
                                            "maxDemandPercent": 0.0})


def on_demand(environment, msg, **_):
    if SEEN["started"] is not None:
        w = worker(msg.node_id)
        w["maxDemandPercent"] = max(w["maxDemandPercent"], msg.data.get("percent", 0.0))


def check(total, thresholds):
    if not total.num_requests:
        return None
    live = []
    if "maxFailRatio" in thresholds:
        live.append(("maxFailRatio", total.fail_ratio, thresholds["maxFailRatio"]))
    if "maxAvgResponseTimeMs" in thresholds:
        live.append(("maxAvgResponseTimeMs", total.avg_response_time,
                     thresholds["maxAvgResponseTimeMs"]))
    for p, limit in thresholds.get("maxPercentileResponseTimeMs", {}).items():
        live.append(("maxPercentileResponseTimeMs[%s]" % p,
                     total.get_response_time_percentile(float(p) / 100), limit))
    for name, measured, limit in live:
        if measured is not None and measured > limit:
            return name, measured, limit
    return None


def sample(env, demand):
    runner = env.runner
    SEEN["masterMaxCpu"] = max(SEEN["masterMaxCpu"], getattr(runner, "current_cpu_usage", 0.0))
    SEEN["masterMaxDemand"] = max(SEEN["masterMaxDemand"], demand)
    clients = getattr(runner, "clients", None)
    if clients is None:
        return
    present = 0
    for c in list(clients.values()):
        w = worker(c.id)
        cpu = float(getattr(c, "cpu_usage", 0) or 0)
        w["cpu"].append(cpu)
        w["maxCpuPercent"] = max(w["maxCpuPercent"], cpu)
        if c.state == "missing":
            if c.id not in SEEN["lost"]:
                SEEN["lost"].append(c.id)
        else:
            present += 1
    for wid in SEEN["workers"]:
        if wid not in clients and wid not in SEEN["lost"]:
            SEEN["lost"].append(wid)
    SEEN["connected"] = max(SEEN["connected"], present)


def end_run(env):
    # As --run-time ends a run: a headless runner quits; with the web UI on (--autostart), the
    # run stops, its statistics stay served for --autoquit seconds (the exporter scrapes them),
    # then the runner and the web UI quit, which ends Locust.
    runner, web_ui = env.runner, getattr(env, "web_ui", None)
    if web_ui is None:
        runner.quit()
        return
    runner.stop()
    gevent.sleep(max(getattr(env.parsed_options, "autoquit", -1), 0))
    runner.quit()
    web_ui.stop()


def watch(env):
    own = Demand()
    while True:
        gevent.sleep(1)
        demand = own.percent()
        runner = env.runner
        if SEEN["started"] is None or runner is None or runner.state not in ("spawning", "running"):
            continue
        sample(env, demand)
        elapsed = time.monotonic() - SEEN["started"]
        if CFG.get("abortEarly") and elapsed >= CFG.get("warmUpSeconds", 30):
            breach = check(env.stats.total, CFG.get("thresholds", {}))
            if breach:
                name, measured, limit = breach
                SEEN["abort"] = {"threshold": name, "measured": measured, "limit": limit,
                                 "afterSeconds": round(elapsed, 1)}
                print("locust-planton: %s breached after %.0f s (%s > %s): stopping the run"
                      % (name, elapsed, measured, limit), file=sys.stderr, flush=True)
                end_run(env)
                return


@events.init.add_listener
def _init(environment, **_):
    if environment.parsed_options is None or not getattr(environment.parsed_options, "worker", False):
        gevent.spawn(watch, environment)
        if isinstance(environment.runner, locust.runners.MasterRunner):
            environment.runner.register_message("locust_planton_demand", on_demand)


@events.test_start.add_listener
def _start(**_):
    if SEEN["started"] is None:
        SEEN["started"] = time.monotonic()


@events.quitting.add_listener
def _quitting(**_):
    with open(CFG["out"], "w") as f:
        json.dump(SEEN, f)


sys.argv = ["locust"] + sys.argv[1:]
from locust.main import main
main()
"""


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def fmt(x):
    # Short and stable: 3.2, 26.79, 0.0123, 812.
    s = (("%.2f" if abs(x) >= 1 else "%.4f") % x).rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def stats_rows(results):
    path = os.path.join(results, PREFIX + "_stats.csv")
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def aggregated(results):
    for row in stats_rows(results):
        if row.get("Name") == "Aggregated":
            return row
    return None


def per_request(results):
    """Each request name's row (method, name, totals, percentiles): what a baseline compares."""
    out = []
    for row in stats_rows(results):
        if row.get("Name") == "Aggregated":
            continue
        entry = {"method": row.get("Type") or "", "name": row.get("Name") or ""}
        entry.update(totals_of(row))
        entry["percentiles"] = percentiles_of(row)
        out.append(entry)
    return out


def totals_of(row):
    requests = int(number(row["Request Count"]) or 0)
    failures = int(number(row["Failure Count"]) or 0)
    return {
        "requests": requests,
        "failures": failures,
        "failRatio": failures / requests if requests else 0.0,
        "avgResponseTimeMs": number(row["Average Response Time"]),
        "minResponseTimeMs": number(row["Min Response Time"]),
        "maxResponseTimeMs": number(row["Max Response Time"]),
        "medianResponseTimeMs": number(row["Median Response Time"]),
        "rps": number(row["Requests/s"]) or 0.0,
        "failuresPerSecond": number(row["Failures/s"]) or 0.0,
    }


def percentiles_of(row):
    out = {}
    for key, value in row.items():
        if key and key.endswith("%"):
            out[key[:-1]] = number(value)
    return out


def check(name, measured, limit, at_most):
    if measured is None:
        return {"name": name, "limit": limit, "measured": None, "passed": False,
                "text": "%s: no requests were made (limit %s)" % (name, fmt(limit))}
    passed = measured <= limit if at_most else measured >= limit
    op = ("<=" if passed else ">") if at_most else (">=" if passed else "<")
    return {"name": name, "limit": limit, "measured": measured, "passed": passed,
            "text": "%s: %s %s %s" % (name, fmt(measured), op, fmt(limit))}


def judge(thresholds, totals, percentiles):
    """Each threshold, in the spec's order, with its measured value and verdict."""
    out = []
    t = totals or {}
    empty = not t.get("requests")
    if "maxFailRatio" in thresholds:
        out.append(check("maxFailRatio", None if empty else t["failRatio"],
                         thresholds["maxFailRatio"], True))
    if "maxAvgResponseTimeMs" in thresholds:
        out.append(check("maxAvgResponseTimeMs", None if empty else t["avgResponseTimeMs"],
                         thresholds["maxAvgResponseTimeMs"], True))
    for p, limit in thresholds.get("maxPercentileResponseTimeMs", {}).items():
        out.append(check("maxPercentileResponseTimeMs[%s]" % p,
                         None if empty else percentiles.get(p), limit, True))
    if "minRps" in thresholds:
        out.append(check("minRps", t.get("rps", 0.0), thresholds["minRps"], False))
    return out


def option(args, names):
    """The value of the last of `names` (`--x V` or `--x=V`) in Locust's arguments."""
    value = None
    for i, a in enumerate(args):
        for n in names:
            if a == n and i + 1 < len(args):
                value = args[i + 1]
            elif a.startswith(n + "="):
                value = a.split("=", 1)[1]
    return value


def mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


def sizing_advice(users):
    return ("size the load generator with `locust-planton plan --users %s` (one Locust process per "
            "core; a process drives about 1000 users or 500 requests/s with HttpUser), then rerun"
            % (users or "N"))


def generator_of(seen, expected, users):
    """The load generator's health over the run, and whether its numbers can be trusted."""
    if seen is None or seen.get("started") is None:
        return None
    workers = [{"id": w["id"], "maxCpuPercent": round(w["maxCpuPercent"], 1),
                "meanCpuPercent": round(mean(w["cpu"]), 1),
                "maxCpuDemandPercent": round(w.get("maxDemandPercent", 0.0), 1),
                "samples": len(w["cpu"])}
               for w in seen["workers"].values()]
    reasons = []
    busiest = lambda w: max(w["maxCpuPercent"], w["maxCpuDemandPercent"])
    hot = [w for w in workers if busiest(w) > CPU_SATURATED]
    if hot:
        reasons.append("%d of %d worker(s) saturated their CPU (up to %s%% running or waiting "
                       "for a CPU, above Locust's %d%%)"
                       % (len(hot), len(workers), fmt(max(busiest(w) for w in hot)),
                          CPU_SATURATED))
    master_cpu = round(seen["masterMaxCpu"], 1)
    master_demand = round(seen.get("masterMaxDemand", 0.0), 1)
    if max(master_cpu, master_demand) > CPU_SATURATED:
        reasons.append("the master saturated its CPU (up to %s%% running or waiting for a CPU, "
                       "above Locust's %d%%)" % (fmt(max(master_cpu, master_demand)),
                                                 CPU_SATURATED))
    if expected is not None and seen["connected"] < expected:
        reasons.append("%d of the %d expected worker(s) connected" % (seen["connected"], expected))
    if seen["lost"]:
        reasons.append("%d worker(s) lost during the run (heartbeats missing or disconnected)"
                       % len(seen["lost"]))
    return {"valid": not reasons, "reasons": reasons,
            "advice": sizing_advice(users) if reasons else None,
            "expectedWorkers": expected, "connectedWorkers": seen["connected"],
            "lostWorkers": seen["lost"], "masterMaxCpuPercent": master_cpu,
            "masterMaxCpuDemandPercent": master_demand, "workers": workers}


def generator_text(g):
    if g["valid"]:
        hottest = max([w["maxCpuPercent"] for w in g["workers"]] or [0.0])
        demand = max([w["maxCpuDemandPercent"] for w in g["workers"]] or [0.0])
        return ("load generator valid: %d worker(s) connected%s, none lost; CPU up to %s%% "
                "(demand %s%%) on workers, %s%% (demand %s%%) on the master"
                % (g["connectedWorkers"],
                   "" if g["expectedWorkers"] is None else " of %d expected" % g["expectedWorkers"],
                   fmt(hottest), fmt(demand), fmt(g["masterMaxCpuPercent"]),
                   fmt(g["masterMaxCpuDemandPercent"])))
    return "load generator invalid: %s; %s" % ("; ".join(g["reasons"]), g["advice"])


def abort_text(a):
    return ("aborted early: %s breached after %s s (%s > %s)"
            % (a["threshold"], fmt(a["afterSeconds"]), fmt(a["measured"]), fmt(a["limit"])))


def junit(summary):
    cases = list(summary["thresholds"])
    if not cases:
        t = summary["totals"] or {}
        ok = summary["locustExitCode"] == 0 and t.get("failures", 0) == 0
        text = ("no request failed (%d requests)" % t.get("requests", 0) if ok else
                "%d of %d requests failed; Locust exited %d"
                % (t.get("failures", 0), t.get("requests", 0), summary["locustExitCode"]))
        cases = [{"name": "no request failed", "passed": ok, "text": text}]
    if summary.get("abort"):
        cases.append({"name": "abortEarly", "passed": False, "text": abort_text(summary["abort"]),
                      "type": "abort"})
    g = summary.get("generator")
    if g:
        cases.append({"name": "load generator", "passed": g["valid"], "text": generator_text(g),
                      "type": "invalid"})
    failures = sum(1 for c in cases if not c["passed"])
    name = "locust-planton " + summary["name"]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<testsuites name=%s tests="%d" failures="%d">' % (quoteattr(name), len(cases), failures),
             '  <testsuite name=%s tests="%d" failures="%d" errors="0" skipped="0">'
             % (quoteattr(name), len(cases), failures)]
    for c in cases:
        lines.append('    <testcase classname=%s name=%s>' % (quoteattr(name), quoteattr(c["name"])))
        if c["passed"]:
            lines.append('      <system-out>%s</system-out>' % escape(c["text"]))
        else:
            lines.append('      <failure message=%s type=%s>%s</failure>'
                         % (quoteattr(c["text"]), quoteattr(c.get("type", "threshold")),
                            escape(c["text"])))
        lines.append('    </testcase>')
    lines += ['  </testsuite>', '</testsuites>', '']
    return "\n".join(lines)


def verdict_of(code, generator, abort):
    """passed, failed or invalid, and the exit code: invalid > failed (early aborts included)."""
    if generator and not generator["valid"]:
        return "invalid", EXIT_INVALID
    if abort:
        return "failed", EXIT_FAILED
    return ("passed", 0) if code == 0 else ("failed", code)


def read_monitor(results):
    path = os.path.join(results, MONITOR_FILE)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
    finally:
        if os.path.exists(path):
            os.remove(path)


def summarize(results, config, locust_code, run, seen=None, args=()):
    thresholds = config.get("thresholds", {})
    row = aggregated(results)
    totals = totals_of(row) if row else None
    percentiles = percentiles_of(row) if row else {}
    checks = judge(thresholds, totals, percentiles)
    if totals is None:
        # Locust ended before writing statistics (a broken locustfile, bad arguments).
        code = locust_code or 1
    elif locust_code not in (0, 1):
        code = locust_code
    elif thresholds:
        code = 0 if all(c["passed"] for c in checks) else 1
    else:
        code = locust_code
    expected = option(args, ["--expect-workers"])
    generator = generator_of(seen, int(expected) if expected else None,
                             option(args, ["--users", "-u"]))
    abort = (seen or {}).get("abort")
    verdict, code = verdict_of(code, generator, abort)
    summary = {
        "name": run.get("name", ""),
        "run": run,
        "verdict": verdict,
        "exitCode": code,
        "locustExitCode": locust_code,
        "totals": totals,
        "percentiles": percentiles,
        "thresholds": checks,
        "requests": per_request(results),
        "generator": generator,
        "abort": abort,
        "files": sorted(n for n in os.listdir(results) if n.endswith((".csv", ".html"))) + ["junit.xml", "summary.json"],
    }
    if config.get("baseline"):
        summary["baselineTolerances"] = config["baseline"]
    with open(os.path.join(results, "junit.xml"), "w") as f:
        f.write(junit(summary))
    with open(os.path.join(results, "summary.json.tmp"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(results, "summary.json.tmp"), os.path.join(results, "summary.json"))
    return summary


def split_outputs(args):
    """Locust arguments without `--csv`/`--html` (the wrapper sets both), and what they asked for."""
    rest, wanted, i = [], {}, 0
    while i < len(args):
        a = args[i]
        for flag in ("--csv", "--html"):
            if a == flag and i + 1 < len(args):
                wanted[flag] = args[i + 1]
                i += 2
                break
            if a.startswith(flag + "="):
                wanted[flag] = a.split("=", 1)[1]
                i += 1
                break
        else:
            rest.append(a)
            i += 1
    return rest, wanted


def copy_outputs(results, wanted):
    """Also writes the CSVs and report where the user's own `--csv`/`--html` asked for them."""
    import shutil
    if "--csv" in wanted:
        for n in sorted(os.listdir(results)):
            if n.startswith(PREFIX + "_") and n.endswith(".csv"):
                shutil.copyfile(os.path.join(results, n), wanted["--csv"] + n[len(PREFIX):])
    if "--html" in wanted and os.path.exists(os.path.join(results, "report.html")):
        shutil.copyfile(os.path.join(results, "report.html"), wanted["--html"])


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    if sys.argv[1] == "--evaluate":
        # --evaluate RESULTS_DIR CONFIG_JSON LOCUST_EXIT_CODE [GENERATOR_JSON [LOCUST_ARGS...]]
        results, config, code = sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
        seen = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
        s = summarize(results, config, code, {"name": config.get("name", "")}, seen, sys.argv[6:])
        print(MARKER + json.dumps({"verdict": s["verdict"], "exitCode": s["exitCode"],
                                   "thresholds": s["thresholds"]}))
        return
    results, config, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    if not results:
        # A worker: no results of its own; it stays up too, or the Deployment would restart it.
        p = subprocess.Popen([sys.executable, "-c", WORKER, *args])
        signal.signal(signal.SIGTERM, lambda *_: (p.terminate(), p.wait(), sys.exit(0)))
        code = p.wait()
        print(MARKER + json.dumps({"exitCode": code}), flush=True)
        while True:
            time.sleep(3600)
    os.makedirs(results, exist_ok=True)
    # A new run replaces the previous run's results.
    for n in os.listdir(results):
        p = os.path.join(results, n)
        if os.path.isfile(p) or os.path.islink(p):
            os.remove(p)
    run = {"name": config.get("name", ""),
           "pod": os.environ.get("HOSTNAME") or socket.gethostname(),
           "startedAt": now()}
    csv_prefix = os.path.join(results, PREFIX)
    args, wanted = split_outputs(args)
    monitor = dict(config, out=os.path.join(results, MONITOR_FILE))
    env = dict(os.environ, LOCUST_PLANTON_MONITOR=json.dumps(monitor))
    p = subprocess.Popen([sys.executable, "-c", MONITOR, *args,
                          "--csv", csv_prefix, "--html", os.path.join(results, "report.html")],
                         env=env)

    def stop(*_):
        if p.poll() is None:
            p.terminate()
            p.wait()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    code = p.wait()
    run["finishedAt"] = now()
    try:
        copy_outputs(results, wanted)
    except OSError as e:
        print("locust-planton: cannot copy results to the --csv/--html paths: %s" % e, flush=True)
    try:
        s = summarize(results, config, code, run, read_monitor(results), args)
        line = {"verdict": s["verdict"], "exitCode": s["exitCode"], "locustExitCode": code,
                "pod": run["pod"],
                "thresholds": [{k: c[k] for k in ("name", "limit", "measured", "passed", "text")}
                               for c in s["thresholds"]]}
        if s["generator"] and not s["generator"]["valid"]:
            line["invalid"] = generator_text(s["generator"])
        if s["abort"]:
            line["abort"] = abort_text(s["abort"])
    except Exception as e:
        line = {"verdict": "failed", "exitCode": code or 1, "locustExitCode": code,
                "pod": run["pod"], "error": "results not written: %s" % e}
    print(MARKER + json.dumps(line), flush=True)
    while True:
        time.sleep(3600)


main()
