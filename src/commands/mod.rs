//! The commands behind the CLI. Each returns what to print, or a [`Failure`] that `main` maps
//! to an exit code; nothing here exits the process.

pub mod chart;
pub mod check;
pub mod completion;
pub mod deploy;
pub mod gitops;
pub mod init;
pub mod lint;
pub mod local;
pub mod man;
pub mod ops;
pub mod output;
pub mod output_file;
pub mod plan;
pub mod plugin;
pub mod post_render;
pub mod report;
pub mod schema;
pub mod uninstall;
pub mod values;
pub mod version;

pub use output::{ManifestFormat, Output, ReportFormat, json_failure, json_text, manifests_as};

use crate::diag::Findings;
use crate::limits::{MAX_DOCUMENT_BYTES, read_bounded};

/// The exit codes, written once: the constants every command returns, and the one table every
/// help text is built from (README "Exit codes"; the generated table of docs/commands.md).
pub mod exit {
    pub const OK: u8 = 0;
    /// Invalid input, or the operation failed.
    pub const FAILED: u8 = 1;
    /// Wrong command-line usage (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// A wait timed out, or the cluster could not run the test.
    pub const TIMEOUT: u8 = 3;
    /// helm (or kubectl) itself failed; its stderr is passed through.
    pub const TOOL_FAILED: u8 = 4;
    /// A headless run was worse than its baseline by more than a tolerance.
    pub const REGRESSED: u8 = 5;
    /// A headless run's load generator was saturated or degraded: its numbers are not the
    /// target's.
    pub const INVALID: u8 = 6;

    /// Every code with what it means in general, as `--help` without a subcommand says it.
    pub const CODES: &[(u8, &str)] = &[
        (OK, "ok"),
        (FAILED, "invalid input or failure"),
        (USAGE, "usage error"),
        (TIMEOUT, "timeout"),
        (TOOL_FAILED, "helm/kubectl failed"),
        (REGRESSED, "regressed against the baseline"),
        (
            INVALID,
            "invalid run (load generator saturated or degraded)",
        ),
    ];

    /// The help line for a command's codes, each with what it means for that command (an empty
    /// meaning prints the code alone): `Exit codes: 0 valid, 1 invalid, 2 usage error.`
    pub fn line(codes: &[(u8, &str)]) -> String {
        let each: Vec<String> = codes
            .iter()
            .map(|(code, meaning)| {
                if meaning.is_empty() {
                    code.to_string()
                } else {
                    format!("{code} {meaning}")
                }
            })
            .collect();
        format!("Exit codes: {}.", each.join(", "))
    }

    /// `text`, then [`line`] of `codes`: a command's `after_help`. The line follows the last
    /// paragraph of prose; after examples alone it is a paragraph of its own.
    pub fn help(text: &str, codes: &[(u8, &str)]) -> String {
        let gap = if text.contains("\n\n") { "\n" } else { "\n\n" };
        format!("{text}{gap}{}", line(codes))
    }
}

/// `-f`: the manifest.
#[derive(clap::Args, Clone)]
pub struct SpecFile {
    /// The manifest (`-` reads stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: String,
}

/// `--output-file`: write to a file instead of stdout.
#[derive(clap::Args, Clone, Default)]
pub struct FileOut {
    /// Write to PATH instead of stdout (atomically; `-` is stdout).
    #[arg(long = "output-file", value_name = "PATH")]
    pub output_file: Option<String>,
}

/// `--image-registry`: every image the tool writes pulled from a mirror.
#[derive(clap::Args, Clone, Default)]
pub struct ImageMirror {
    /// Pull every image the values name (Locust, the pip step, the exporter) from this mirror:
    /// HOST[:PORT][/PATH] takes the place of each image's registry (Docker Hub images keep
    /// their path: locustio/locust:2.32.2 → HOST/PATH/locustio/locust:2.32.2).
    #[arg(
        long,
        value_name = "HOST[/PATH]",
        env = "LOCUST_PLANTON_IMAGE_REGISTRY"
    )]
    pub image_registry: Option<String>,
}

/// `--kube-context` (kubectl's `--context` accepted too).
#[derive(clap::Args, Clone, Default)]
pub struct ContextArg {
    /// kubeconfig context (kubectl's spelling `--context` is accepted too).
    #[arg(long = "kube-context", alias = "context", value_name = "NAME")]
    pub kube_context: Option<String>,
}

/// Why a command failed; `message` is complete and printed to stderr as is.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
    pub fn failed(message: impl Into<String>) -> Self {
        Failure::new(exit::FAILED, message)
    }

    /// For `map_err` where a flag's value is refused: exit 1 with `FLAG <the error>` (the
    /// error names the value: `--baseline old.json: no such file`).
    pub fn flag<E: std::fmt::Display>(flag: &'static str) -> impl FnOnce(E) -> Failure {
        move |e| Failure::failed(format!("{flag} {e}"))
    }
}

/// This binary's path (helm runs it as the post-renderer); `canonical` resolves links, for a
/// plugin that must run it whatever PATH and folder helm has.
pub fn this_binary(canonical: bool) -> Result<std::path::PathBuf, Failure> {
    std::env::current_exe()
        .and_then(|p| {
            if canonical {
                std::fs::canonicalize(p)
            } else {
                Ok(p)
            }
        })
        .map_err(|e| Failure::failed(format!("cannot find this binary: {e}")))
}

/// helm failed: its stderr passed through with exit 4; helm missing or unusable: exit 1.
impl From<crate::helm::HelmError> for Failure {
    fn from(e: crate::helm::HelmError) -> Self {
        match e {
            crate::helm::HelmError::Failed { stderr, .. } => Failure::new(
                exit::TOOL_FAILED,
                format!("helm failed:\n{}", stderr.trim_end()),
            ),
            other => Failure::failed(other.to_string()),
        }
    }
}

/// kubectl failed: exit 4 with its stderr; kubectl missing: exit 1.
impl From<crate::kubectl::KubectlError> for Failure {
    fn from(e: crate::kubectl::KubectlError) -> Self {
        let code = match e {
            crate::kubectl::KubectlError::NotFound { .. } => exit::FAILED,
            crate::kubectl::KubectlError::Failed { .. } => exit::TOOL_FAILED,
        };
        Failure::new(code, e.to_string())
    }
}

/// A file or process operation failed: exit 1 with the system's reason. Callers that know
/// which file add its name themselves.
impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::failed(e.to_string())
    }
}

/// An input named on the command line: a path, or `-` for stdin.
pub struct Input {
    /// How messages name it: the path as given, or `<stdin>`.
    pub label: String,
    pub text: String,
}

/// What a command reading stdin says when stdin is a terminal, so a user who forgot `< FILE`
/// or a pipe is not left waiting silently.
pub const STDIN_PROMPT: &str = "locust-planton: reading manifests from stdin (Ctrl-D ends)";

/// Says [`STDIN_PROMPT`] on stderr when stdin is a terminal (never on a pipe or file, and not
/// with `--quiet`).
pub fn stdin_prompt() {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && !crate::progress::is_quiet() {
        eprintln!("{STDIN_PROMPT}");
    }
}

pub fn read_input(path: &str) -> Result<Input, Failure> {
    // Bounded: a manifest larger than any spec can be is refused without reading it all.
    let (label, bytes) = if path == "-" {
        stdin_prompt();
        let bytes = read_bounded(std::io::stdin(), MAX_DOCUMENT_BYTES)
            .map_err(|e| Failure::failed(format!("<stdin>: cannot read: {e}")))?;
        ("<stdin>".to_string(), bytes)
    } else {
        let bytes = std::fs::File::open(path)
            .and_then(|f| read_bounded(f, MAX_DOCUMENT_BYTES))
            .map_err(|e| Failure::failed(format!("{path}: cannot read: {e}")))?;
        (path.to_string(), bytes)
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::failed(format!(
            "{label}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(Input { label, text })
}

/// Gives findings the line and column where their field is written in `text`.
pub fn locate(findings: &mut Findings, text: &str) {
    if findings.items.iter().all(|f| f.position.is_some()) {
        return;
    }
    if let Ok(positions) = crate::yaml::Positions::of(text) {
        findings.locate(|path| positions.find(path));
    }
}

/// Every finding, as the message of a failure (`FILE:LINE:COL: path: message` lines).
fn findings_failure(findings: &Findings, label: &str) -> Failure {
    let mut message = findings.render(label);
    message.pop();
    Failure::failed(message)
}

/// Reads and validates a spec; on errors, the failure lists every finding.
pub fn load_spec(path: &str) -> Result<(Input, crate::spec::LoadTestSpec, Findings), Failure> {
    let input = read_input(path)?;
    match crate::spec::read(&input.text) {
        Ok((spec, mut warnings)) => {
            locate(&mut warnings, &input.text);
            Ok((input, spec, warnings))
        }
        Err(mut findings) => {
            locate(&mut findings, &input.text);
            Err(findings_failure(&findings, &input.label))
        }
    }
}

/// A valid spec and its synthesized values; `warnings` holds the reader's and the synthesizer's.
pub struct Loaded {
    pub label: String,
    pub spec: crate::spec::LoadTestSpec,
    pub synthesized: crate::values::Synthesized,
    pub warnings: Findings,
}

impl Loaded {
    /// Reads, validates and synthesizes; errors from either stage fail with every finding.
    pub fn from_path(path: &str) -> Result<Loaded, Failure> {
        let (input, spec, mut warnings) = load_spec(path)?;
        let synthesized = crate::values::synthesize(&spec);
        warnings
            .items
            .extend(synthesized.findings.items.iter().cloned());
        warnings.items.extend(
            crate::postrender::preflight::findings(&synthesized.values, &spec.helm_values).items,
        );
        locate(&mut warnings, &input.text);
        if warnings.has_errors() {
            return Err(findings_failure(&warnings, &input.label));
        }
        Ok(Loaded {
            label: input.label,
            spec,
            synthesized,
            warnings,
        })
    }

    /// Points every image in the values at the image mirror `registry` (`--image-registry`).
    pub fn with_image_registry(mut self, registry: Option<&str>) -> Loaded {
        if let Some(r) = registry {
            crate::spec::image::mirror_values(&mut self.synthesized.values, r);
        }
        self
    }

    /// The warnings as `FILE: path: warning: …` lines, for stderr.
    pub fn warning_text(&self) -> String {
        self.warnings.render(&self.label)
    }

    /// `--namespace`, else the spec's namespace; a `valueFrom` namespace needs the flag.
    pub fn namespace(&self, flag: Option<&str>) -> Result<String, Failure> {
        namespace_for(&self.label, &self.spec, flag)
    }
}

pub fn namespace_for(
    label: &str,
    spec: &crate::spec::LoadTestSpec,
    flag: Option<&str>,
) -> Result<String, Failure> {
    flag.map(str::to_string).or_else(|| spec.namespace_value().map(str::to_string)).ok_or_else(|| {
        Failure::failed(format!("{label}: spec.namespace uses valueFrom, which only Planton resolves; pass --namespace"))
    })
}

/// What a closed stdout (its reader gone: `| head`, EPIPE) means to a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClosedStdout {
    /// The output is data for a reader that has read what it wanted: not an error, nothing
    /// said, the command's own exit code.
    Quiet,
    /// The output records something done (a cluster or file changed): a failure, reported.
    Report,
}

/// Writes `content` to `path` atomically (temp file in the same directory, then rename), so a
/// failed run never leaves a half-written file; `-` or no path means stdout, where a closed
/// stdout fails. Modes, links and errors as [`output_file`] says.
pub fn write_output(path: Option<&str>, content: &str) -> Result<(), Failure> {
    write_output_as(path, content, ClosedStdout::Report)
}

/// [`write_output`], with a closed stdout treated as `closed` says.
pub fn write_output_as(
    path: Option<&str>,
    content: &str,
    closed: ClosedStdout,
) -> Result<(), Failure> {
    use std::io::Write;
    match path {
        None | Some("-") => {
            let mut out = std::io::stdout().lock();
            let written = out.write_all(content.as_bytes()).and_then(|_| out.flush());
            stdout_result(written, closed)
        }
        Some(p) => output_file::replace(p, content.as_bytes()),
    }
}

/// The outcome of writing to stdout: a closed stdout is `Ok` when `closed` is
/// [`ClosedStdout::Quiet`]; any other error fails naming stdout.
pub fn stdout_result(written: std::io::Result<()>, closed: ClosedStdout) -> Result<(), Failure> {
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && closed == ClosedStdout::Quiet => {
            Ok(())
        }
        other => other.map_err(|e| Failure::failed(format!("stdout: {e}"))),
    }
}

/// Writes `content` to a new file at `path` atomically; fails, writing nothing, when something
/// is already there (`init` never overwrites a user's manifest).
pub fn write_new_file(path: &str, content: &str) -> Result<(), Failure> {
    output_file::create_new(path, content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_lines() {
        struct Case {
            codes: &'static [(u8, &'static str)],
            line: &'static str,
        }
        let cases = [
            Case {
                codes: exit::CODES,
                line: "Exit codes: 0 ok, 1 invalid input or failure, 2 usage error, 3 timeout, 4 helm/kubectl failed, 5 regressed against the baseline, 6 invalid run (load generator saturated or degraded).",
            },
            Case {
                codes: &[
                    (exit::OK, ""),
                    (exit::FAILED, "no such release"),
                    (exit::TOOL_FAILED, "kubectl failed"),
                ],
                line: "Exit codes: 0, 1 no such release, 4 kubectl failed.",
            },
        ];
        for case in cases {
            assert_eq!(exit::line(case.codes), case.line);
        }
        assert_eq!(
            exit::help("Examples:\n  x", &[(exit::OK, "ok")]),
            "Examples:\n  x\n\nExit codes: 0 ok."
        );
        assert_eq!(
            exit::help("Examples:\n  x\n\nProse.", &[(exit::OK, "ok")]),
            "Examples:\n  x\n\nProse.\nExit codes: 0 ok."
        );
        let codes: Vec<u8> = exit::CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            codes,
            [
                exit::OK,
                exit::FAILED,
                exit::USAGE,
                exit::TIMEOUT,
                exit::TOOL_FAILED,
                exit::REGRESSED,
                exit::INVALID
            ]
        );
    }

    #[test]
    fn failures_from_the_tools() {
        use crate::kubectl::KubectlError;
        struct Case {
            error: KubectlError,
            code: u8,
            starts: &'static str,
        }
        let cases = [
            Case {
                error: KubectlError::Failed {
                    stderr: "Forbidden".into(),
                },
                code: exit::TOOL_FAILED,
                starts: "kubectl failed:\nForbidden",
            },
            Case {
                error: KubectlError::NotFound {
                    program: "kubectl".into(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                },
                code: exit::FAILED,
                starts: "kubectl not found (kubectl: ",
            },
        ];
        for case in cases {
            let f = Failure::from(case.error);
            assert_eq!(f.code, case.code, "{}", f.message);
            assert!(f.message.starts_with(case.starts), "{}", f.message);
        }
        let helm = Failure::from(crate::helm::HelmError::Failed {
            code: 1,
            stderr: "Error: chart not found\n".into(),
        });
        assert_eq!(
            (helm.code, helm.message.as_str()),
            (exit::TOOL_FAILED, "helm failed:\nError: chart not found")
        );
        let io = Failure::from(std::io::Error::other("disk full"));
        assert_eq!((io.code, io.message.as_str()), (exit::FAILED, "disk full"));
    }

    #[test]
    fn failures_naming_a_flag_or_the_json_written() {
        struct Case {
            failure: Failure,
            message: &'static str,
        }
        let json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let cases = [
            Case {
                failure: Failure::flag("--baseline")("old.json: no such file"),
                message: "--baseline old.json: no such file",
            },
            Case {
                failure: Failure::flag("--results-dir")(std::io::Error::other("not empty")),
                message: "--results-dir not empty",
            },
            Case {
                failure: json_failure(json),
                message: "cannot write JSON: EOF while parsing an object at line 1 column 1",
            },
        ];
        for case in cases {
            assert_eq!(
                (case.failure.code, case.failure.message.as_str()),
                (exit::FAILED, case.message)
            );
        }
    }
}
