//! `report`: a finished run's results copied from its master pod; the copying is shared with
//! `wait --results-dir` and with `uninstall`'s check that no results are lost.

use super::ops::{RunTarget, Target, fetch_results, summary_of};
use super::{Failure, Output, ReportFormat, exit};
use crate::ops::{Guard, Phase, RunIdentity, ended_run, guard, results_copied};
use crate::results::Verdict;
use serde_json::Value;

/// Copy a finished run's results from the master pod.   e.g. locust-planton report -f test.yaml --results-dir results
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton report -f ci.yaml --results-dir locust-results/ci\n  locust-planton report ci-run -n perf\n\n\
    Copies Locust's HTML report, its CSVs, summary.json and junit.xml of the current run from the master\n\
    pod (kubectl exec with the image's Python; no tar needed) into a new or empty folder [default:\n\
    locust-results/<release>-<UTC time>/], after checking they are the current run's, and annotates the\n\
    master Deployment locust.project-planton.org/results-copied=<master pod> (uninstall then lets the\n\
    release go). With --baseline, compares the run with it and records the comparison in the copied\n\
    summary.json and junit.xml.",
        &[(exit::OK, "copied"), (exit::FAILED, "no finished run, no results or no such release"), (exit::TOOL_FAILED, "kubectl failed"), (exit::REGRESSED, "copied, REGRESSED against --baseline")],
    )
)]
pub struct ReportArgs {
    #[command(flatten)]
    pub target: RunTarget,
    /// The folder to copy the results into (created; must be empty).
    #[arg(long, value_name = "DIR")]
    pub results_dir: Option<String>,
    /// Compare the run with an earlier one: a summary.json (or its folder), or `last`: the
    /// newest passed run of the release beside the results folder. REGRESSED: exit 5.
    #[arg(long, value_name = "FILE|last")]
    pub baseline: Option<String>,
}

/// Writes the files into `dir`; on a failure the partly written folder is removed.
fn write_results(dir: &std::path::Path, files: &[(String, Vec<u8>)]) -> Result<(), Failure> {
    for (name, bytes) in files {
        if let Err(e) = std::fs::write(dir.join(name), bytes) {
            let _ = std::fs::remove_dir_all(dir);
            return Err(Failure::failed(format!(
                "{}: {e}",
                dir.join(name).display()
            )));
        }
    }
    Ok(())
}

/// A run's results copied into a local folder (and compared with a baseline when asked).
struct Copied {
    dir: std::path::PathBuf,
    /// The copied summary.json, with the comparison when there was one.
    summary: Value,
    /// The comparison's table, or why there was none; empty without a baseline.
    compared: String,
    /// The verdict became REGRESSED (a passed run worse than its baseline).
    regressed: bool,
    /// Why the copy could not be marked on the master Deployment, if it could not.
    note: String,
}

/// Copies `run`'s results from its master pod into a new or empty folder, after checking they
/// are that run's; once every file is written, marks the run as copied on the master
/// Deployment ([`crate::ops::RESULTS_COPIED`]); then compares with `baseline`, recording the comparison in
/// the copied summary.json and junit.xml (`report`, `wait --results-dir`, `uninstall`).
fn copy_run(
    t: &Target,
    run: &RunIdentity,
    results_dir: Option<&str>,
    baseline: Option<&str>,
) -> Result<Copied, Failure> {
    let decoded = fetch_results(t, &run.master_pod)?;
    let summary = summary_of(&decoded, &run.master_pod)?;
    // The files must be this run's: written by this pod (a pod's hostname is its name).
    let written_by = summary["run"]["pod"].as_str().unwrap_or("");
    if written_by != run.master_pod {
        return Err(Failure::failed(format!(
            "pod {}: the results were written by {written_by:?}, not this run's master; nothing copied",
            run.master_pod
        )));
    }
    let cwd = std::env::current_dir()?;
    let dir = crate::results::prepare_dir(results_dir, &t.release, &cwd)
        .map_err(Failure::flag("--results-dir"))?;
    write_results(&dir, &decoded)?;
    let note = t.mark_copied(&run.master_pod).unwrap_or_default();
    let mut compared = String::new();
    let mut regressed = false;
    if let Some(arg) = baseline {
        let name = summary["name"].as_str().unwrap_or(&t.release).to_string();
        let under = dir.parent().unwrap_or(&dir);
        match crate::results::resolve_baseline(arg, &name, under, Some(&dir))
            .map_err(Failure::flag("--baseline"))?
        {
            Some((base, against)) => {
                let (v, table) =
                    crate::results::apply_baseline(&dir, &base, &against, exit::REGRESSED)
                        .map_err(Failure::failed)?;
                compared = table;
                regressed = v == Verdict::Regressed;
            }
            None => {
                compared = format!(
                    "no earlier passed run of {name} in {}: nothing to compare with\n",
                    under.display()
                )
            }
        }
    }
    let summary = crate::results::read_summary(&dir).unwrap_or(summary);
    Ok(Copied {
        dir,
        summary,
        compared,
        regressed,
        note,
    })
}

/// Copies the current run's results from its master pod into a new local folder. Returns the
/// text to print (the summary table and the folder).
pub fn report(
    t: &Target,
    results_dir: Option<&str>,
    baseline: Option<&str>,
) -> Result<Output, Failure> {
    let (s, _) = t.observe()?;
    let finished = matches!(s.phase, Phase::Completed | Phase::Failed) && s.exit_code.is_some();
    let Some(run) = s.run.as_ref().filter(|_| finished) else {
        return Err(Failure::failed(format!(
            "release {}: no finished run to report (phase {:?}: {}); `locust-planton wait` first",
            t.release,
            s.phase,
            s.reason.as_deref().unwrap_or("")
        )));
    };
    let c = copy_run(t, run, results_dir, baseline)?;
    Ok(Output::ok(format!(
        "run: {}\n{}{}results in {}\n",
        run.text(),
        c.compared,
        crate::results::table(&c.summary),
        c.dir.display()
    ))
    .with_code(if c.regressed {
        exit::REGRESSED
    } else {
        exit::OK
    })
    .with_stderr(c.note))
}

/// `wait --results-dir`: the ended run's results copied (and compared with `baseline`). Text:
/// the comparison and the folder go before the verdict line, which stays last; JSON:
/// `resultsDir`, and `baseline` (every row) with it. REGRESSED exits 5.
pub(super) fn copy_ended(
    t: &Target,
    run: &RunIdentity,
    dir: &str,
    baseline: Option<&str>,
    mut out: Output,
    format: ReportFormat,
) -> Result<Output, Failure> {
    let c = copy_run(t, run, Some(dir), baseline)?;
    if c.regressed {
        out.code = exit::REGRESSED;
    }
    out.stderr.push_str(&c.note);
    if format == ReportFormat::Json {
        let mut v: Value = serde_json::from_str(&out.stdout).map_err(super::json_failure)?;
        v["resultsDir"] = Value::from(c.dir.display().to_string());
        if baseline.is_some() {
            v["baseline"] = c.summary["baseline"].clone();
        }
        if c.regressed {
            v["verdict"] = Value::from(Verdict::Regressed.as_str());
        }
        out.stdout = super::json_text(&v)?;
        return Ok(out);
    }
    let at = out.stdout.rfind("verdict: ").unwrap_or(out.stdout.len());
    let (status, verdict) = out.stdout.split_at(at);
    let verdict = if c.regressed {
        format!("verdict: {}\n", Verdict::Regressed.capitals())
    } else {
        verdict.to_string()
    };
    out.stdout = format!(
        "{status}{}results in {}\n{verdict}",
        c.compared,
        c.dir.display()
    );
    Ok(out)
}

/// What `uninstall` does first, unless given `--discard-results`: nothing when no run of the
/// release has ended or its results were copied; a refusal (exit 1) when the current run ended
/// and nobody copied its results; with `--results-dir`, the copy. Returns the notes for
/// stderr. `dry_run` copies nothing and says what it would do.
pub fn before_uninstall(
    t: &Target,
    results_dir: Option<&str>,
    dry_run: bool,
) -> Result<String, Failure> {
    let observed = t.observe_release().map_err(|f| {
        Failure::new(
            f.code,
            format!(
                "{}\n(uninstall reads the release's run first, so that no uncopied results are lost; --discard-results uninstalls without looking)",
                f.message
            ),
        )
    })?;
    let dry = if dry_run { "dry run: " } else { "" };
    let Some((status, _, deployments)) = observed else {
        return Ok(format!(
            "{dry}release {}: no master or workers in namespace {}: no results to keep\n",
            t.release,
            t.namespace_text()
        ));
    };
    let ended = ended_run(&status);
    let copied = results_copied(&deployments);
    let run = ended.unwrap_or_default();
    match guard(ended, copied, results_dir.is_some()) {
        Guard::Allow if ended.is_some() => Ok(format!(
            "{dry}release {}: the results of run {run} were copied\n",
            t.release
        )),
        Guard::Allow => Ok(format!(
            "{dry}release {}: no ended run (phase {:?}: {}): no results to keep\n",
            t.release,
            status.phase,
            status.reason.as_deref().unwrap_or("")
        )),
        Guard::Refuse => Err(Failure::failed(format!(
            "release {}: run {run} has ended and its results were not copied{}; uninstalling would delete them. Copy them first with `uninstall --results-dir DIR` (or `locust-planton report`), or pass --discard-results to uninstall without them",
            t.release,
            copied
                .map(|c| format!(" (the last copy was of an earlier run, {c})"))
                .unwrap_or_default()
        ))),
        Guard::Copy if dry_run => Ok(format!(
            "{dry}would copy the results of run {run} into {} and mark them copied, then uninstall\n",
            results_dir.unwrap_or_default()
        )),
        Guard::Copy => {
            let run = status.run.as_ref().ok_or_else(|| {
                Failure::failed(format!("release {}: the run vanished", t.release))
            })?;
            let c = copy_run(t, run, results_dir, None)?;
            Ok(format!(
                "{}results of run {} copied into {}\n",
                c.note,
                run.master_pod,
                c.dir.display()
            ))
        }
    }
}
