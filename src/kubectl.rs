//! Runs kubectl: the program (`--kubectl`, else `$KUBECTL`, else `kubectl` on PATH), the
//! kubeconfig context and namespace every call carries, and errors that keep what failed.

use std::fmt;
use std::io;

#[derive(Clone, Debug, Default)]
pub struct Kubectl {
    pub program: String,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Debug)]
pub enum KubectlError {
    /// The program could not be started.
    NotFound { program: String, source: io::Error },
    /// kubectl ran and exited non-zero; its stderr.
    Failed { stderr: String },
}

impl fmt::Display for KubectlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KubectlError::NotFound { program, source } => write!(
                f,
                "kubectl not found ({program}: {source}); install kubectl or point --kubectl / $KUBECTL at it"
            ),
            KubectlError::Failed { stderr } => write!(f, "kubectl failed:\n{stderr}"),
        }
    }
}

impl std::error::Error for KubectlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KubectlError::NotFound { source, .. } => Some(source),
            KubectlError::Failed { .. } => None,
        }
    }
}

impl Kubectl {
    /// `explicit`, else `$KUBECTL`, else `kubectl`.
    pub fn new(explicit: Option<&str>, context: Option<&str>, namespace: Option<&str>) -> Self {
        let program = explicit
            .map(str::to_string)
            .or_else(|| std::env::var("KUBECTL").ok().filter(|k| !k.is_empty()))
            .unwrap_or_else(|| "kubectl".into());
        Kubectl {
            program,
            context: context.map(str::to_string),
            namespace: namespace.map(str::to_string),
        }
    }

    /// The full argument list: `--context`, `--namespace`, then `args`.
    pub fn args(&self, args: &[String]) -> Vec<String> {
        let mut full: Vec<String> = Vec::new();
        if let Some(c) = &self.context {
            full.extend(["--context".into(), c.clone()]);
        }
        if let Some(n) = &self.namespace {
            full.extend(["--namespace".into(), n.clone()]);
        }
        full.extend(args.iter().cloned());
        full
    }

    /// Runs kubectl with `args` (and `stdin`), returning its stdout.
    pub fn run(&self, args: &[String], stdin: Option<&[u8]>) -> Result<String, KubectlError> {
        let mut cmd = duct::cmd(std::ffi::OsString::from(&self.program), self.args(args))
            .stdout_capture()
            .stderr_capture()
            .unchecked();
        if let Some(input) = stdin {
            cmd = cmd.stdin_bytes(input.to_vec());
        }
        let out = cmd.run().map_err(|source| KubectlError::NotFound {
            program: self.program.clone(),
            source,
        })?;
        if !out.status.success() {
            return Err(KubectlError::Failed {
                stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_and_namespace_come_first() {
        let k = Kubectl::new(Some("k"), Some("ctx"), Some("ns"));
        assert_eq!(
            k.args(&["get".into(), "pods".into()]),
            ["--context", "ctx", "--namespace", "ns", "get", "pods"]
        );
        let bare = Kubectl::new(Some("k"), None, None);
        assert_eq!(bare.args(&["version".into()]), ["version"]);
    }

    #[test]
    fn a_missing_program_keeps_its_io_error() {
        let k = Kubectl::new(Some("/nonexistent/kubectl"), None, None);
        let e = k.run(&["version".into()], None).unwrap_err();
        assert!(matches!(e, KubectlError::NotFound { .. }), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().contains("/nonexistent/kubectl"), "{e}");
    }

    #[test]
    fn a_failure_carries_stderr() {
        let k = Kubectl::new(Some("sh"), None, None);
        let e = k
            .run(&["-c".into(), "echo nope >&2; exit 3".into()], None)
            .unwrap_err();
        assert_eq!(e.to_string(), "kubectl failed:\nnope");
    }
}
