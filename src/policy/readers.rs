//! Typed readers of the fields hardening judges: a field of the wrong type is a `malformed`
//! finding (Kubernetes would reject it; hardening never guesses), and the boolean settings a
//! rule defaults when they are missing.

use super::rules::Rule;
use super::violation::Ctx;
use crate::diag::join;
use crate::yaml::{Map, Node};

/// A field that must be a boolean: its value, `None` when absent or null, and an error when it
/// is anything else (Kubernetes rejects it; this filter does not guess).
pub(super) fn boolean(m: &Map, field: &str, path: &str, ctx: &mut Ctx) -> Option<bool> {
    typed(m, field, path, ctx, "true or false", Node::as_bool)
}

pub(super) fn integer(m: &Map, field: &str, path: &str, ctx: &mut Ctx) -> Option<i64> {
    typed(m, field, path, ctx, "an integer", Node::as_i64)
}

pub(super) fn string<'m>(m: &'m Map, field: &str, path: &str, ctx: &mut Ctx) -> Option<&'m str> {
    typed(m, field, path, ctx, "a string", Node::as_str)
}

pub(super) fn typed<'m, T>(
    m: &'m Map,
    field: &str,
    path: &str,
    ctx: &mut Ctx,
    what: &str,
    read: impl Fn(&'m Node) -> Option<T>,
) -> Option<T> {
    let v = m.get(field).filter(|v| !v.is_null())?;
    let got = read(v);
    if got.is_none() {
        ctx.malformed(
            join(path, field),
            format!("must be {what}, not {}", v.type_name()),
        );
    }
    got
}

/// The mapping at `field`, created when absent or null; an error (and `None`) when it is
/// something else.
pub(super) fn mapping<'m>(
    m: &'m mut Map,
    field: &str,
    path: &str,
    ctx: &mut Ctx,
) -> Option<&'m mut Map> {
    let v = m.entry_map(field);
    let type_name = v.type_name();
    let got = v.as_map_mut();
    if got.is_none() {
        ctx.malformed(
            join(path, field),
            format!("must be a mapping, not {type_name}"),
        );
    }
    got
}

pub(super) fn default_false_or_error(
    m: &mut Map,
    field: &str,
    path: &str,
    rule: Rule,
    ctx: &mut Ctx,
) {
    default_or_error(m, field, false, path, rule, ctx);
}

pub(super) fn default_true_or_error(
    m: &mut Map,
    field: &str,
    path: &str,
    rule: Rule,
    ctx: &mut Ctx,
) {
    default_or_error(m, field, true, path, rule, ctx);
}

/// A boolean that must be `safe`: the other value is a violation of `rule`; absent (or null), it
/// is set to `safe` unless `rule` is opted out; any other value is left for `boolean` to report.
fn default_or_error(m: &mut Map, field: &str, safe: bool, path: &str, rule: Rule, ctx: &mut Ctx) {
    let present = m.get(field).is_some_and(|v| !v.is_null());
    match boolean(m, field, path, ctx) {
        Some(v) if v != safe => ctx.weaker(rule, &join(path, field), &format!("`{field}: {v}`")),
        Some(_) => {}
        None if present || ctx.allows(rule) => {}
        None => m.insert(field, Node::bool(safe)),
    }
}

/// A mapping that is present (not null) at `field`, copied out with its path; an error when it
/// is something else.
pub(super) fn sub_map(m: &Map, field: &str, path: &str, ctx: &mut Ctx) -> Option<(String, Map)> {
    let v = m.get(field).filter(|v| !v.is_null())?;
    let at = join(path, field);
    match v.as_map() {
        Some(inner) => Some((at, inner.clone())),
        None => {
            ctx.malformed(at, format!("must be a mapping, not {}", v.type_name()));
            None
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::harden::Profile;
    use crate::policy::pod::Family;
    use crate::yaml::{emit_document, parse_single};

    /// Runs `read` on the mapping `yaml` with `allowed` opted out: the mapping after, and the
    /// findings as `topic field: message`.
    fn run(
        yaml: &str,
        allowed: &[Rule],
        mut read: impl FnMut(&mut Map, &mut Ctx),
    ) -> (String, Vec<String>) {
        let mut node = parse_single(yaml).unwrap();
        let mut out = Vec::new();
        let mut ctx = Ctx {
            allowed: allowed.to_vec(),
            profile: Profile {
                uid: 1000,
                high_uid: false,
            },
            family: Family::Kubernetes,
            out: &mut out,
        };
        if let Some(m) = node.as_map_mut() {
            read(m, &mut ctx);
        }
        let found = out
            .iter()
            .map(|v| format!("{} {}: {}", v.topic, v.field, v.message))
            .collect();
        (emit_document(&node), found)
    }

    struct Typed {
        yaml: &'static str,
        read: &'static str,
        findings: &'static [&'static str],
    }

    #[test]
    fn typed_readers() {
        let cases = [
            Typed {
                yaml: "{f: true}",
                read: "Some(true)",
                findings: &[],
            },
            Typed {
                yaml: "{f: null}",
                read: "None",
                findings: &[],
            },
            Typed {
                yaml: "{}",
                read: "None",
                findings: &[],
            },
            Typed {
                yaml: "{f: 'true'}",
                read: "None",
                findings: &["malformed p.f: must be true or false, not a string"],
            },
            Typed {
                yaml: "{f: [1]}",
                read: "None",
                findings: &["malformed p.f: must be true or false, not a list"],
            },
        ];
        for case in cases {
            let mut got = String::new();
            let (_, found) = run(case.yaml, &[], |m, ctx| {
                got = format!("{:?}", boolean(m, "f", "p", ctx));
            });
            assert_eq!(got, case.read, "{}", case.yaml);
            assert_eq!(found, case.findings, "{}", case.yaml);
        }
        let (_, found) = run("{num: x, str: 1}", &[], |m, ctx| {
            assert_eq!(integer(m, "num", "p", ctx), None);
            assert_eq!(string(m, "str", "p", ctx), None);
        });
        assert_eq!(
            found,
            [
                "malformed p.num: must be an integer, not a string",
                "malformed p.str: must be a string, not an integer"
            ]
        );
    }

    struct Default {
        what: &'static str,
        yaml: &'static str,
        allowed: &'static [Rule],
        after: &'static str,
        findings: &'static [&'static str],
    }

    #[test]
    fn defaulted_booleans() {
        let cases = [
            Default {
                what: "missing is set",
                yaml: "{}",
                allowed: &[],
                after: "{deny: false, keep: true}",
                findings: &[],
            },
            Default {
                what: "null is set",
                yaml: "{deny: null, keep: null}",
                allowed: &[],
                after: "{deny: false, keep: true}",
                findings: &[],
            },
            Default {
                what: "stricter is kept",
                yaml: "{deny: false, keep: true}",
                allowed: &[],
                after: "{deny: false, keep: true}",
                findings: &[],
            },
            Default {
                what: "weaker is refused",
                yaml: "{deny: true, keep: false}",
                allowed: &[],
                after: "{deny: true, keep: false}",
                findings: &[
                    "privileged p.deny: `deny: true` is not allowed by the Pod Security Standards' baseline profile",
                    "writable-root-fs p.keep: `keep: false` is not allowed by locust-planton's own rules (not part of the Pod Security Standards)",
                ],
            },
            Default {
                what: "opted out: weaker kept, missing left out",
                yaml: "{deny: true}",
                allowed: &[Rule::Privileged, Rule::WritableRootFs],
                after: "{deny: true}",
                findings: &[],
            },
            Default {
                what: "a wrong type is not replaced",
                yaml: "{deny: 'no', keep: 1}",
                allowed: &[],
                after: "{deny: 'no', keep: 1}",
                findings: &[
                    "malformed p.deny: must be true or false, not a string",
                    "malformed p.keep: must be true or false, not an integer",
                ],
            },
        ];
        for case in cases {
            let (after, found) = run(case.yaml, case.allowed, |m, ctx| {
                default_false_or_error(m, "deny", "p", Rule::Privileged, ctx);
                default_true_or_error(m, "keep", "p", Rule::WritableRootFs, ctx);
            });
            assert_eq!(
                after,
                emit_document(&parse_single(case.after).unwrap()),
                "{}",
                case.what
            );
            assert_eq!(found, case.findings, "{}", case.what);
        }
    }

    #[test]
    fn mappings() {
        let (after, found) = run("{a: null, b: [x], c: {k: v}}", &[], |m, ctx| {
            assert!(mapping(m, "a", "p", ctx).is_some());
            assert!(mapping(m, "b", "p", ctx).is_none());
            assert!(mapping(m, "new", "p", ctx).is_some());
            assert_eq!(
                sub_map(m, "c", "p", ctx).map(|(at, _)| at),
                Some("p.c".to_string())
            );
            assert!(sub_map(m, "b", "p", ctx).is_none());
            assert!(sub_map(m, "absent", "p", ctx).is_none());
        });
        assert_eq!(
            after,
            emit_document(&parse_single("{a: {}, b: [x], c: {k: v}, new: {}}").unwrap())
        );
        assert_eq!(
            found,
            [
                "malformed p.b: must be a mapping, not a list",
                "malformed p.b: must be a mapping, not a list"
            ]
        );
    }
}
