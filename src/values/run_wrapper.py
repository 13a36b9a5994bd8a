# locust-planton's headless run wrapper (README "Results and thresholds"). The same text runs in
# the master pod (`python -c`, the container's command) and under `local`:
#   python -c WRAPPER RESULTS_DIR CONFIG_JSON LOCUST_ARGS...
# CONFIG_JSON is {"name": <metadata.name>, "thresholds": <spec.loadTest.run.thresholds>}.
# It empties RESULTS_DIR, runs Locust with the HTML report and CSVs written there, judges the
# thresholds on the aggregated statistics, writes summary.json and junit.xml, prints one
# `locust-planton-result {...}` line and then stays up (SIGTERM ends it), so a Deployment does not
# start the test again and the result stays in the log.
#   python -c WRAPPER --evaluate RESULTS_DIR CONFIG_JSON LOCUST_EXIT_CODE
# only judges existing CSVs (tests).
import csv, datetime, json, os, signal, socket, subprocess, sys, time
from xml.sax.saxutils import escape, quoteattr

PREFIX = "locust"
MARKER = "locust-planton-result "


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def fmt(x):
    # Short and stable: 3.2, 26.79, 0.0123, 812.
    s = (("%.2f" if abs(x) >= 1 else "%.4f") % x).rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


def aggregated(results):
    path = os.path.join(results, PREFIX + "_stats.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row.get("Name") == "Aggregated":
                return row
    return None


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


def junit(summary):
    cases = summary["thresholds"]
    if not cases:
        t = summary["totals"] or {}
        ok = summary["locustExitCode"] == 0 and t.get("failures", 0) == 0
        text = ("no request failed (%d requests)" % t.get("requests", 0) if ok else
                "%d of %d requests failed; Locust exited %d"
                % (t.get("failures", 0), t.get("requests", 0), summary["locustExitCode"]))
        cases = [{"name": "no request failed", "passed": ok, "text": text}]
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
            lines.append('      <failure message=%s type="threshold">%s</failure>'
                         % (quoteattr(c["text"]), escape(c["text"])))
        lines.append('    </testcase>')
    lines += ['  </testsuite>', '</testsuites>', '']
    return "\n".join(lines)


def summarize(results, thresholds, locust_code, run):
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
    summary = {
        "name": run.get("name", ""),
        "run": run,
        "exitCode": code,
        "locustExitCode": locust_code,
        "totals": totals,
        "percentiles": percentiles,
        "thresholds": checks,
        "files": sorted(n for n in os.listdir(results) if n.endswith((".csv", ".html"))) + ["junit.xml", "summary.json"],
    }
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
        results, config, code = sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
        s = summarize(results, config.get("thresholds", {}), code, {"name": config.get("name", "")})
        print(MARKER + json.dumps({"exitCode": s["exitCode"], "thresholds": s["thresholds"]}))
        return
    results, config, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    thresholds = config.get("thresholds", {})
    if not results:
        # A worker: no results of its own; it stays up too, or the Deployment would restart it.
        p = subprocess.Popen([sys.executable, "-m", "locust", *args])
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
    p = subprocess.Popen([sys.executable, "-m", "locust", *args,
                          "--csv", csv_prefix, "--html", os.path.join(results, "report.html")])

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
        s = summarize(results, thresholds, code, run)
        line = {"exitCode": s["exitCode"], "locustExitCode": code, "pod": run["pod"],
                "thresholds": [{k: c[k] for k in ("name", "limit", "measured", "passed", "text")}
                               for c in s["thresholds"]]}
    except Exception as e:
        line = {"exitCode": code or 1, "locustExitCode": code, "pod": run["pod"],
                "error": "results not written: %s" % e}
    print(MARKER + json.dumps(line), flush=True)
    while True:
        time.sleep(3600)


main()
