//! `schema`: the manifest's JSON Schema, for editors.

use super::{FileOut, Output, exit};

/// The manifest's JSON Schema, for editors.   e.g. locust-planton schema --output-file locust-kubernetes.schema.json
#[derive(clap::Args, Clone)]
#[command(
    after_help = exit::help(
        "Examples:\n  locust-planton schema --output-file locust-kubernetes.schema.json\n\n\
    JSON Schema draft 2020-12 of a LocustKubernetes/KubernetesLocust manifest (both spellings of every\n\
    field, the extension fields). Put `# yaml-language-server: $schema=locust-kubernetes.schema.json`\n\
    at the top of a manifest and editors with the YAML language server complete and validate it.\n\
    `check` remains the authority: docs/spec.md \"Schema\" lists the rules a schema cannot express.",
        &[(exit::OK, "ok"), (exit::FAILED, "the file cannot be written"), (exit::USAGE, "usage error")],
    )
)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub file_out: FileOut,
}

/// The schema's text (`--output-file` is the caller's to honour).
pub fn run() -> Output {
    Output::ok(crate::spec::schema::text())
}
