//! PEP 508 requirement strings (`requests`, `faker==19.0.0`, `boto3[crt]>=1.28; python_version >= "3.9"`,
//! `pkg @ https://…`), checked by a small recursive-descent parser.
//!
//! Deliberately stricter than PEP 508 where the standard allows characters that only matter to
//! a shell: marker string literals may hold letters, digits, space and `. _ - + * !`; URLs may
//! not hold `$ ; & | ' " ` ( ) < > \ { }` or white space. pip never sees a shell here, but a
//! package list is also read by humans and other tools.

/// Returns the normalised project name (PEP 503) of a valid requirement.
pub fn validate(req: &str) -> Result<String, String> {
    refuse_non_requirement(req)?;
    let mut p = Cursor { s: req, pos: 0 };
    p.ws();
    let name = p
        .identifier()
        .ok_or_else(|| format!("`{req}` must start with a package name"))?;
    p.ws();
    if p.peek() == Some('[') {
        p.extras().map_err(|e| format!("`{req}`: {e}"))?;
        p.ws();
    }
    url_or_versions(&mut p, req)?;
    p.ws();
    if p.peek() == Some(';') {
        p.bump();
        p.marker_or().map_err(|e| {
            format!("`{req}`: {e}; after `;` PEP 508 expects an environment marker such as `python_version >= \"3.9\"`")
        })?;
        p.ws();
    }
    if !p.done() {
        let rest = &req[p.pos..];
        return Err(format!(
            "`{req}` is not a valid PEP 508 requirement: unexpected `{rest}`"
        ));
    }
    Ok(normalize(&name))
}

/// What is no requirement at all, named as what it is: nothing, a pip option, shell syntax.
fn refuse_non_requirement(req: &str) -> Result<(), String> {
    if req.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if req.starts_with('-') {
        return Err(format!(
            "`{req}` is a pip option; only requirements are allowed (no `--index-url`, `-r`, `-e`, …)"
        ));
    }
    if let Some(c) = req
        .chars()
        .find(|c| matches!(c, '$' | '`' | '|' | '&' | '\\'))
    {
        let shown = if c == '`' {
            "`` ` ``".to_string()
        } else {
            format!("`{c}`")
        };
        return Err(format!(
            "`{req}` contains shell syntax ({shown}); only PEP 508 requirements are allowed"
        ));
    }
    Ok(())
}

/// After the name and extras: `@ url`, `(versions)`, bare versions, or nothing.
fn url_or_versions(p: &mut Cursor, req: &str) -> Result<(), String> {
    match p.peek() {
        Some('@') => {
            p.bump();
            p.ws();
            p.url().map_err(|e| format!("`{req}`: {e}"))?;
            p.ws();
            if !p.done() && p.peek() != Some(';') {
                return Err(format!("`{req}`: expected `;` and a marker after the URL"));
            }
            if p.peek() == Some(';') && !req[..p.pos].ends_with(char::is_whitespace) {
                return Err(format!(
                    "`{req}`: a URL must be followed by a space before `;`"
                ));
            }
        }
        Some('(') => {
            p.bump();
            p.version_many().map_err(|e| format!("`{req}`: {e}"))?;
            p.ws();
            if p.peek() != Some(')') {
                return Err(format!("`{req}`: expected `)`"));
            }
            p.bump();
        }
        Some(c) if "<=!~>".contains(c) => p.version_many().map_err(|e| format!("`{req}`: {e}"))?,
        _ => {}
    }
    Ok(())
}

/// PEP 503: lower-case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

pub(crate) const MARKER_VARS: &[&str] = &[
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform_machine",
    "platform_python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
];

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }
    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }
    fn done(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == ' ' || c == '\t') {
            self.bump();
        }
    }
    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }
    /// `[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?`
    fn identifier(&mut self) -> Option<String> {
        let start = self.pos;
        if !self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            self.bump();
        }
        while self.s[start..self.pos].ends_with(['.', '_', '-']) {
            self.pos -= 1;
        }
        Some(self.s[start..self.pos].to_string())
    }
    fn extras(&mut self) -> Result<(), String> {
        self.bump(); // [
        self.ws();
        if self.eat("]") {
            return Ok(());
        }
        loop {
            self.identifier()
                .ok_or("expected an extra name inside `[...]`")?;
            self.ws();
            if self.eat("]") {
                return Ok(());
            }
            if !self.eat(",") {
                return Err("expected `,` or `]` in extras".into());
            }
            self.ws();
        }
    }
    fn version_op(&mut self) -> Option<&'static str> {
        ["===", "~=", "==", "!=", "<=", ">=", "<", ">"]
            .into_iter()
            .find(|op| self.eat(op))
    }
    fn version_many(&mut self) -> Result<(), String> {
        loop {
            self.ws();
            self.version_op()
                .ok_or("expected a version operator (`==`, `>=`, `~=`, …)")?;
            self.ws();
            let start = self.pos;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || "_.*+!-".contains(c))
            {
                self.bump();
            }
            if start == self.pos {
                return Err("expected a version after the operator".into());
            }
            self.ws();
            if !self.eat(",") {
                return Ok(());
            }
        }
    }
    fn url(&mut self) -> Result<(), String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!%+,=*".contains(c))
        {
            self.bump();
        }
        let url = &self.s[start..self.pos];
        let scheme_ok = url.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
                && !rest.is_empty()
        });
        if !scheme_ok {
            return Err("expected a URL such as `https://host/pkg.whl` after `@`".into());
        }
        match self.peek() {
            None | Some(' ' | '\t') => Ok(()),
            Some(c) => Err(format!("character `{c}` is not allowed in a URL here")),
        }
    }
    fn marker_or(&mut self) -> Result<(), String> {
        self.marker_and()?;
        loop {
            self.ws();
            if !self.keyword("or") {
                return Ok(());
            }
            self.marker_and()?;
        }
    }
    fn marker_and(&mut self) -> Result<(), String> {
        self.marker_expr()?;
        loop {
            self.ws();
            if !self.keyword("and") {
                return Ok(());
            }
            self.marker_expr()?;
        }
    }
    fn keyword(&mut self, kw: &str) -> bool {
        let save = self.pos;
        if self.eat(kw)
            && self
                .peek()
                .is_some_and(|c| c == ' ' || c == '(' || c == '\t')
        {
            return true;
        }
        self.pos = save;
        false
    }
    fn marker_expr(&mut self) -> Result<(), String> {
        self.ws();
        if self.eat("(") {
            self.marker_or()?;
            self.ws();
            return if self.eat(")") {
                Ok(())
            } else {
                Err("expected `)` in marker".into())
            };
        }
        self.marker_var()?;
        self.ws();
        let op_ok = self.version_op().is_some() || self.keyword("in") || {
            let save = self.pos;
            let ok = self.keyword("not") && {
                self.ws();
                self.keyword("in")
            };
            if !ok {
                self.pos = save;
            }
            ok
        };
        if !op_ok {
            return Err("expected a marker operator (`==`, `<`, `in`, …)".into());
        }
        self.marker_var()
    }
    fn marker_var(&mut self) -> Result<(), String> {
        self.ws();
        match self.peek() {
            Some(q @ ('"' | '\'')) => {
                self.bump();
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || " ._-+*!".contains(c))
                {
                    self.bump();
                }
                if self.peek() != Some(q) {
                    return Err(
                        "marker strings may hold letters, digits, space and `. _ - + * !` only"
                            .into(),
                    );
                }
                self.bump();
                Ok(())
            }
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                {
                    self.bump();
                }
                let var = &self.s[start..self.pos];
                if MARKER_VARS.contains(&var) {
                    Ok(())
                } else if var.is_empty() {
                    Err("expected a marker variable or a quoted string".into())
                } else {
                    Err(format!("`{var}` is not an environment marker variable"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_requirements() {
        for r in [
            "requests",
            "faker==19.0.0",
            "boto3>=1.28",
            "boto3[crt]>=1.28,<2",
            "Django (>=4.2, <5)",
            "pkg[a,b] ~= 1.4.2",
            "tomli; python_version < \"3.11\"",
            "pywin32 ; sys_platform == 'win32' and python_version >= '3.8'",
            "name @ https://example.test/name-1.0-py3-none-any.whl",
            "name @ https://example.test/x.whl ; os_name == 'posix'",
            "a.b_c-d",
            "x (==1.0.*)",
            "x; extra == \"test\" or (os_name in 'posix nt')",
            "x; python_version not in '2.7 3.5'",
        ] {
            assert!(validate(r).is_ok(), "{r}: {:?}", validate(r));
        }
    }

    #[test]
    fn rejected_requirements() {
        for (r, why) in [
            ("", "empty"),
            ("  ", "empty"),
            ("--index-url=https://evil.test", "pip option"),
            ("-r requirements.txt", "pip option"),
            ("x; rm -rf /", "environment marker"),
            ("x && curl evil", "shell"),
            ("$(curl evil)", "shell"),
            ("`id`", "shell"),
            ("x | sh", "shell"),
            ("x==1.0 extra", "unexpected"),
            ("x @ not-a-url", "URL"),
            ("x @ https://evil.test/$(id)", "shell"),
            ("x; os_name == \"$(id)\"", "shell"),
            ("x; os_name == 'a;b'", "marker strings"),
            ("x==", "version"),
            ("x[", "extra"),
            ("_x", "package name"),
        ] {
            let e = validate(r).unwrap_err();
            assert!(e.contains(why), "{r}: {e}");
        }
    }

    #[test]
    fn names_normalise() {
        assert_eq!(validate("Foo_Bar.baz>=1").unwrap(), "foo-bar-baz");
    }
}
