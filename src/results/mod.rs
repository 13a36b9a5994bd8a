//! A headless run's results as the run wrapper (`values/run_wrapper.py`) leaves them: the
//! folder, `summary.json` read back, its short table, the threshold verdicts of a result line,
//! the run's [`Verdict`], and the comparison with a baseline run (`baseline`).

pub mod baseline;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// A headless run's verdict, one vocabulary everywhere: `summary.json`'s `verdict`, the result
/// line, JUnit, the printed summaries, the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// Requests failed, a threshold was missed (early aborts included), or Locust failed.
    Failed,
    /// Worse than the baseline by more than a tolerance.
    Regressed,
    /// The load generator was saturated or degraded: the numbers are not the target's.
    Invalid,
}

impl Verdict {
    /// As `summary.json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Regressed => "regressed",
            Verdict::Invalid => "invalid",
        }
    }

    /// As human output prints it.
    pub fn capitals(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Regressed => "REGRESSED",
            Verdict::Invalid => "INVALID",
        }
    }

    /// Precedence when two apply: invalid > failed > regressed > passed.
    fn rank(self) -> u8 {
        match self {
            Verdict::Passed => 0,
            Verdict::Regressed => 1,
            Verdict::Failed => 2,
            Verdict::Invalid => 3,
        }
    }

    /// The verdict of the two that takes precedence.
    pub fn and(self, other: Verdict) -> Verdict {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// The verdict a summary or result line records; one written before verdicts existed is
    /// passed when it exited 0.
    pub fn of(summary: &Value) -> Verdict {
        match summary["verdict"].as_str() {
            Some("passed") => Verdict::Passed,
            Some("regressed") => Verdict::Regressed,
            Some("invalid") => Verdict::Invalid,
            Some(_) => Verdict::Failed,
            None if summary["exitCode"] == 0 => Verdict::Passed,
            None => Verdict::Failed,
        }
    }
}

/// `YYYYMMDDTHHMMSSZ` of the current UTC time (folder names sort by time).
pub fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    stamp_of(secs)
}

fn stamp_of(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The folder for a run's results: `dir` (created; it must be empty, so no earlier run's files
/// mix with this one's), or a new `locust-results/<name>-<UTC time>` under `cwd`.
pub fn prepare_dir(dir: Option<&str>, name: &str, cwd: &Path) -> Result<PathBuf, String> {
    let Some(d) = dir else {
        // `create_dir` claims a name atomically: two runs started in the same second get two
        // folders.
        let parent = cwd.join("locust-results");
        std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        let base = parent.join(format!("{name}-{}", utc_stamp()));
        let mut n: u64 = 1;
        loop {
            let p = if n == 1 {
                base.clone()
            } else {
                PathBuf::from(format!("{}-{n}", base.display()))
            };
            match std::fs::create_dir(&p) {
                Ok(()) => return Ok(p),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(format!("{}: {e}", p.display())),
            }
        }
    };
    let path = usable_dir(d, cwd)?;
    std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// `dir` (relative to `cwd`) when results may go there: new, or an empty folder. Checked
/// before a wait as well, so a long wait does not end in a refusal.
pub fn usable_dir(dir: &str, cwd: &Path) -> Result<PathBuf, String> {
    let path = cwd.join(dir);
    if path.exists() {
        if !path.is_dir() {
            return Err(format!("{}: exists and is not a folder", path.display()));
        }
        let mut entries =
            std::fs::read_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "{}: not empty; results go into an empty or new folder, so no earlier run's files mix with this run's",
                path.display()
            ));
        }
    }
    Ok(path)
}

fn num(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        Some(x) => format!("{x:.2}"),
        None => "n/a".into(),
    }
}

/// `PASS`/`FAIL` lines of the thresholds in a summary or result line.
pub fn verdict_lines(thresholds: &Value) -> String {
    thresholds
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{} {}\n",
                if t["passed"] == true { "PASS" } else { "FAIL" },
                t["text"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The short table `local` prints at the end and `report` after copying.
pub fn table(summary: &Value) -> String {
    let mut out = String::new();
    let t = &summary["totals"];
    if t.is_object() {
        let p = &summary["percentiles"];
        out.push_str(&format!(
            "requests {}  failures {} ({:.2}%)  avg {} ms  median {} ms  p95 {} ms  p99 {} ms  max {} ms  {} req/s\n",
            num(&t["requests"]),
            num(&t["failures"]),
            t["failRatio"].as_f64().unwrap_or(0.0) * 100.0,
            num(&t["avgResponseTimeMs"]),
            num(&t["medianResponseTimeMs"]),
            num(&p["95"]),
            num(&p["99"]),
            num(&t["maxResponseTimeMs"]),
            num(&t["rps"]),
        ));
    } else {
        out.push_str("no statistics: Locust ended before running the test\n");
    }
    let verdicts = verdict_lines(&summary["thresholds"]);
    if verdicts.is_empty() {
        out.push_str("no thresholds: the run fails when a request fails\n");
    }
    out.push_str(&verdicts);
    out.push_str(&generator_lines(summary));
    out.push_str(&format!(
        "{}: exit code {} (Locust's {})\n",
        Verdict::of(summary).capitals(),
        num(&summary["exitCode"]),
        num(&summary["locustExitCode"])
    ));
    out
}

/// The early abort and the load generator's health, as the summary records them.
pub fn generator_lines(summary: &Value) -> String {
    let mut out = String::new();
    let a = &summary["abort"];
    if a.is_object() {
        out.push_str(&format!(
            "FAIL aborted early: {} breached after {} s ({} > {})\n",
            a["threshold"].as_str().unwrap_or("?"),
            num(&a["afterSeconds"]),
            num(&a["measured"]),
            num(&a["limit"])
        ));
    }
    let g = &summary["generator"];
    if g["valid"] == false {
        let reasons: Vec<&str> = g["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        out.push_str(&format!(
            "INVALID load generator: {}\n  {}\n",
            reasons.join("; "),
            g["advice"].as_str().unwrap_or("")
        ));
    } else if g["valid"] == true {
        out.push_str(&format!(
            "load generator: {} worker(s) connected, {} lost; CPU up to {}% (demand {}%) on workers, {}% (demand {}%) on the master\n",
            num(&g["connectedWorkers"]),
            g["lostWorkers"].as_array().map_or(0, Vec::len),
            num(&max_of_workers(g, "maxCpuPercent")),
            num(&max_of_workers(g, "maxCpuDemandPercent")),
            num(&g["masterMaxCpuPercent"]),
            num(&g["masterMaxCpuDemandPercent"])
        ));
    }
    out
}

fn max_of_workers(g: &Value, field: &str) -> Value {
    let max = g["workers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w[field].as_f64())
        .fold(0.0, f64::max);
    serde_json::json!(max)
}

/// Compares the run in `dir` with `baseline` and records the outcome there: `summary.json` gets
/// `baseline` (every row) and, when a passed run regressed, verdict `regressed`; `junit.xml` a
/// `baseline` test suite, and `exitCode` `regressed_exit_code` when it regressed. Returns the
/// run's verdict and the table to print.
pub fn apply_baseline(
    dir: &Path,
    baseline: &Value,
    against: &str,
    regressed_exit_code: u8,
) -> Result<(Verdict, String), String> {
    let mut summary =
        read_summary(dir).ok_or_else(|| format!("{}: no summary.json", dir.display()))?;
    let tolerances = baseline::Tolerances::from_json(&summary["baselineTolerances"]);
    let comparison = baseline::compare(&summary, baseline, &tolerances);
    let mut verdict = Verdict::of(&summary);
    if comparison.regressed() {
        verdict = verdict.and(Verdict::Regressed);
    }
    summary["baseline"] = baseline::to_json(&comparison, against);
    summary["verdict"] = Value::from(verdict.as_str());
    if verdict == Verdict::Regressed {
        summary["exitCode"] = Value::from(regressed_exit_code);
    }
    let junit_path = dir.join("junit.xml");
    if let Ok(junit) = std::fs::read_to_string(&junit_path) {
        let suite = format!("locust-planton {}", summary["name"].as_str().unwrap_or(""));
        write_atomically(
            &junit_path,
            &baseline::junit_with(&junit, &comparison, &suite),
        )?;
    }
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())? + "\n";
    write_atomically(&dir.join("summary.json"), &text)?;
    Ok((verdict, baseline::table(&comparison, against)))
}

fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `--baseline FILE|last` resolved: the baseline's summary and how to name it, or `None` when
/// `last` finds no earlier passed run of `name` under `under` (nothing to compare).
pub fn resolve_baseline(
    arg: &str,
    name: &str,
    under: &Path,
    own: Option<&Path>,
) -> Result<Option<(Value, String)>, String> {
    if arg == "last" {
        return match baseline::find_last(under, name, own) {
            Some(dir) => Ok(Some((
                baseline::read(&dir)?,
                format!("the last passed run, {}", dir.display()),
            ))),
            None => Ok(None),
        };
    }
    let path = Path::new(arg);
    Ok(Some((baseline::read(path)?, path.display().to_string())))
}

/// `summary.json` of a results folder.
pub fn read_summary(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(stamp_of(0), "19700101T000000Z");
        assert_eq!(stamp_of(1_795_954_545), "20261129T121545Z");
        assert_eq!(stamp_of(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn prepared_folders_are_new_or_empty() {
        let cwd = tempfile::tempdir().unwrap();
        let a = prepare_dir(None, "demo", cwd.path()).unwrap();
        assert!(a.starts_with(cwd.path().join("locust-results")) && a.is_dir());
        let b = prepare_dir(None, "demo", cwd.path()).unwrap();
        assert_ne!(a, b, "a second run in the same second gets its own folder");
        std::fs::write(a.join("x"), "").unwrap();
        let e = prepare_dir(Some(a.to_str().unwrap()), "demo", cwd.path()).unwrap_err();
        assert!(e.contains("not empty"), "{e}");
        assert_eq!(
            prepare_dir(Some("out/r1"), "demo", cwd.path()).unwrap(),
            cwd.path().join("out/r1")
        );
    }
}
