//! Go's reading of a YAML document: the object Kubernetes decodes (sigs.k8s.io/yaml, which runs
//! Go's yaml.v2 into untyped values and then converts them to JSON). Every decision locust-planton
//! makes about a manifest is made on this reading, so a document cannot read one way here and
//! another way to kubectl, Helm and the API server. The rules, checked against kubectl
//! (tests/go_view.rs and the unit tests below):
//!
//! - **Scalars.** A quoted scalar without a tag is a string. A plain one is typed by YAML 1.1
//!   resolution ([`resolve_implicit`]). A tag decides where one is written: `!!str` (or its
//!   verbatim form) makes a string; `!!int`, `!!float`, `!!bool`, `!!null`, `!!timestamp` require
//!   the text to resolve to that type (`!!float` takes an integer), or Go refuses the document;
//!   `!!binary` is base64 decoded; any other tag (`!`, `!local`, `!!merge`, `!!map`) leaves the
//!   text a string. Timestamps stay strings. Tags on collections change nothing.
//! - **Merge keys.** A key `<<` (plain, or tagged `!!merge`) merges a mapping, or a sequence of
//!   mappings (earlier ones win), into the mapping at the point where it is written: it
//!   overrides keys written before it, and keys after it override it (yaml.v2's order, which
//!   differs from YAML 1.2 libraries). Anything else after `<<` is refused, as Go refuses it.
//! - **Keys** become JSON object keys: strings as they are, integers in decimal, booleans as
//!   `true`/`false`, floats as Go prints a float32 (`%g`). A null or out-of-range key is refused
//!   (Go refuses it); two keys that Go keeps apart but that become the same JSON key (`1` and
//!   `"1"`) are refused, because which one Go keeps depends on map order. Repeated keys: the last
//!   one wins, in the place of the first.
//! - **Numbers.** NaN and infinities are refused (Go's JSON encoder refuses them). A float that
//!   is a whole number is an integer to Kubernetes (`0.0` is UID 0, `8e1` is port 80), and is
//!   written as one.
//!
//! The result is a [`Node`] tree with no tags, no merge keys and no aliases, in which every
//! scalar's text and style type it exactly as Go did: strings are quoted style, everything else
//! plain in canonical form.

use super::node::{Map, Node, Scalar, Style};
use super::parse::{ParseError, Pos, Raw, RawKind};
use base64::Engine;
use std::collections::HashMap;
use std::hash::BuildHasher;

const LONG: &str = "tag:yaml.org,2002:";

/// A scalar as Go's decoder types it.
#[derive(Clone, Debug, PartialEq)]
pub enum GoScalar {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (Go's uint64).
    Uint(u64),
    /// An integer beyond 64 bits (Go's big.Int): only reachable in hex, octal or binary.
    BigInt,
    Float(f64),
    String(String),
}

/// Decodes a raw document as Go does.
pub(super) fn decode(raw: &Raw) -> Result<Node, ParseError> {
    decode_owned(raw.clone())
}

/// [`decode`], taking the raw tree: its strings move into the result instead of being copied.
pub(super) fn decode_owned(raw: Raw) -> Result<Node, ParseError> {
    value(raw, None)
}

/// One step of the path to the node being decoded, kept unformatted on the stack (each level
/// points to its parent): the path is only written out when a refusal names it, so decoding
/// allocates nothing for it.
struct At<'p> {
    seg: Seg<'p>,
    up: Option<&'p At<'p>>,
    /// Levels below the root (its children are at 1).
    depth: usize,
}

#[derive(Clone, Copy, Debug)]
enum Seg<'p> {
    /// A key: its string, or its text when it is not a string.
    Key(&'p str),
    /// A list index, written `[i]`.
    Index(usize),
}

/// `spec.containers.[0].name`: the segments from the root, joined by dots.
fn joined(path: Option<&At>) -> String {
    let mut parts = Vec::new();
    let mut at = path;
    while let Some(step) = at {
        parts.push(match step.seg {
            Seg::Key(k) => k.to_string(),
            Seg::Index(i) => format!("[{i}]"),
        });
        at = step.up;
    }
    parts.reverse();
    parts.join(".")
}

/// The depth of a child of the node at `path`.
fn depth_below(path: Option<&At>) -> usize {
    path.map_or(1, |at| at.depth + 1)
}

fn fail(pos: Pos, path: Option<&At>, message: impl AsRef<str>) -> ParseError {
    let message = message.as_ref();
    let message = if path.is_none() {
        message.to_string()
    } else {
        format!("{}: {message}", joined(path))
    };
    ParseError::at(pos, message)
}

/// How many levels apart the stack is checked: stacker asks the system for the stack's bounds
/// on its first check (more than decoding a small render costs), so documents less deep than
/// this never check; the red zone holds this many levels.
const STACK_CHECK_LEVELS: usize = 16;

fn value(raw: Raw, path: Option<&At>) -> Result<Node, ParseError> {
    // Up to `MAX_DEPTH` levels of a few frames each: more than a test thread's 2 MiB of stack
    // holds in a debug build, so the stack grows on demand instead.
    let depth = path.map_or(0, |at| at.depth);
    if depth % STACK_CHECK_LEVELS == STACK_CHECK_LEVELS - 1 {
        stacker::maybe_grow(256 * 1024, 1024 * 1024, || value_on_stack(raw, path))
    } else {
        value_on_stack(raw, path)
    }
}

fn value_on_stack(raw: Raw, path: Option<&At>) -> Result<Node, ParseError> {
    let pos = raw.pos;
    match raw.kind {
        RawKind::Scalar {
            value,
            tag,
            implicit,
        } => {
            let s =
                scalar_owned(value, tag.as_deref(), implicit).map_err(|m| fail(pos, path, m))?;
            scalar_node(s).map_err(|m| fail(pos, path, m))
        }
        RawKind::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let at = At {
                    seg: Seg::Index(i),
                    up: path,
                    depth: depth_below(path),
                };
                out.push(value(item, Some(&at))?);
            }
            Ok(Node::Seq(out))
        }
        RawKind::Map(entries) => {
            let mut map = GoMap::with_capacity(entries.len());
            map_into(entries, &mut map, path)?;
            map.into_node(path)
        }
    }
}

/// [`scalar`] taking the text: a string that is the text itself keeps its allocation.
fn scalar_owned(text: String, tag: Option<&str>, implicit: bool) -> Result<GoScalar, String> {
    match (tag, implicit) {
        (None, false) => Ok(GoScalar::String(text)),
        (None, true) => Ok(typed_plain(&text, true).unwrap_or(GoScalar::String(text))),
        _ => scalar(&text, tag, implicit),
    }
}

/// A mapping as Go builds it: keyed by typed value, each entry where its key was first set.
#[derive(Default)]
struct GoMap {
    entries: Vec<(GoKey, Pos, Node)>,
    /// Past [`SCAN_KEYS`] keys: the last entry whose key has this hash. The keys stay in
    /// `entries` only (no copy of each key for the index).
    index: HashMap<u64, usize, foldhash::fast::RandomState>,
    /// For each entry, the previous entry whose key has the same hash (`usize::MAX`: none).
    same_hash: Vec<usize>,
    /// Seeded per process, so no document can choose keys that all collide; foldhash, not
    /// std's SipHash, which was a fifth of reading a mapping of 20,000 keys.
    hasher: foldhash::fast::RandomState,
}

/// A key as a Go map tells keys apart: by type and value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum GoKey {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    BigInt(String),
    /// The float's bits; NaN keys are each their own key (NaN equals nothing), told apart by
    /// the count of keys set before.
    Float(u64),
    NaN(usize),
    String(String),
}

/// Up to this many keys a mapping finds a key by scanning its entries; past it, by a hash index
/// (a wide mapping stays linear, a small one allocates no index).
const SCAN_KEYS: usize = 16;

impl GoMap {
    fn with_capacity(n: usize) -> GoMap {
        GoMap {
            entries: Vec::with_capacity(n),
            ..GoMap::default()
        }
    }

    fn set(&mut self, key: GoKey, pos: Pos, value: Node) {
        if self.index.is_empty() {
            if let Some(at) = self.entries.iter().position(|(k, ..)| *k == key) {
                self.entries[at].2 = value;
                return;
            }
            self.entries.push((key, pos, value));
            if self.entries.len() > SCAN_KEYS {
                self.build_index();
            }
            return;
        }
        let hash = self.hasher.hash_one(&key);
        let mut at = self.index.get(&hash).copied().unwrap_or(usize::MAX);
        while at != usize::MAX {
            if self.entries[at].0 == key {
                self.entries[at].2 = value;
                return;
            }
            at = self.same_hash[at];
        }
        let new = self.entries.len();
        self.entries.push((key, pos, value));
        self.same_hash
            .push(self.index.insert(hash, new).unwrap_or(usize::MAX));
    }

    /// Indexes the entries so far (their keys are distinct).
    fn build_index(&mut self) {
        self.index.reserve(self.entries.capacity());
        self.same_hash.reserve(self.entries.capacity());
        for (i, (key, ..)) in self.entries.iter().enumerate() {
            let hash = self.hasher.hash_one(key);
            self.same_hash
                .push(self.index.insert(hash, i).unwrap_or(usize::MAX));
        }
    }

    /// The JSON object: keys as sigs.k8s.io/yaml writes them.
    fn into_node(self, path: Option<&At>) -> Result<Node, ParseError> {
        let mut map = Map::with_capacity(self.entries.len());
        // String keys the map already holds once each: their JSON keys cannot collide.
        if self
            .entries
            .iter()
            .all(|(key, ..)| matches!(key, GoKey::String(_)))
        {
            for (key, _, value) in self.entries {
                if let GoKey::String(text) = key {
                    map.push_unique_owned(text, value);
                }
            }
            return Ok(Node::Map(map));
        }
        let mut seen: HashMap<String, GoKey> = HashMap::with_capacity(self.entries.len());
        for (key, pos, value) in self.entries {
            let at = |m: String| {
                ParseError::at(
                    pos,
                    if path.is_none() {
                        m
                    } else {
                        format!("{}: {m}", joined(path))
                    },
                )
            };
            let text = match &key {
                GoKey::String(s) => s.clone(),
                GoKey::Int(i) => i.to_string(),
                GoKey::Bool(b) => b.to_string(),
                GoKey::Float(bits) => go_float32_key(f64::from_bits(*bits)),
                GoKey::NaN(_) => ".nan".to_string(),
                GoKey::Null => {
                    return Err(at(
                        "a null mapping key (Go's reader refuses it: \"unsupported map key\")"
                            .into(),
                    ));
                }
                GoKey::Uint(u) => {
                    return Err(at(format!(
                        "the mapping key {u} is out of range (Go's reader refuses it: \"unsupported map key\")"
                    )));
                }
                GoKey::BigInt(t) => {
                    return Err(at(format!(
                        "the mapping key {t} is out of range (Go's reader refuses it: \"unsupported map key\")"
                    )));
                }
            };
            if let Some(other) = seen.insert(text.clone(), key.clone()) {
                return Err(at(format!(
                    "two different keys ({} and {}) both read as \"{text}\"; which one Go keeps depends on map order, so the document is refused",
                    describe(&other),
                    describe(&key)
                )));
            }
            map.push_unique(&text, value);
        }
        Ok(Node::Map(map))
    }
}

fn describe(key: &GoKey) -> String {
    match key {
        GoKey::String(s) => format!("the string {s:?}"),
        GoKey::Int(i) => format!("the integer {i}"),
        GoKey::Bool(b) => format!("the boolean {b}"),
        GoKey::Float(bits) => format!("the float {}", f64::from_bits(*bits)),
        GoKey::NaN(_) => "a NaN".into(),
        other => format!("{other:?}"),
    }
}

fn is_merge_key(raw: &Raw) -> bool {
    matches!(&raw.kind, RawKind::Scalar { value, tag, implicit }
        if value == "<<" && (*implicit || tag.as_deref() == Some("tag:yaml.org,2002:merge")))
}

/// Sets a mapping's entries into `map`, in order, merging `<<` values where they stand.
fn map_into(
    entries: Vec<(Raw, Raw)>,
    map: &mut GoMap,
    path: Option<&At>,
) -> Result<(), ParseError> {
    for (k, v) in entries {
        if is_merge_key(&k) {
            merge(v, map, path)?;
            continue;
        }
        let key_pos = k.pos;
        let RawKind::Scalar {
            value: text,
            tag,
            implicit,
        } = k.kind
        else {
            return Err(fail(key_pos, path, "a mapping key must be a scalar"));
        };
        let (key, written) = go_key(text, tag.as_deref(), implicit, map.entries.len())
            .map_err(|m| fail(key_pos, path, m))?;
        let value = {
            let at = At {
                seg: Seg::Key(match (&key, &written) {
                    (GoKey::String(text), _) | (_, Some(text)) => text,
                    // `go_key` keeps the text of every key that is not a string.
                    (_, None) => "",
                }),
                up: path,
                depth: depth_below(path),
            };
            value(v, Some(&at))?
        };
        map.set(key, key_pos, value);
    }
    Ok(())
}

/// A key as a Go map tells it apart, and its written text when the key is not that text as a
/// string (`set_before`: how many keys the map holds, which tells NaN keys apart).
fn go_key(
    text: String,
    tag: Option<&str>,
    implicit: bool,
    set_before: usize,
) -> Result<(GoKey, Option<String>), String> {
    let typed = match (tag, implicit) {
        (None, false) => return Ok((GoKey::String(text), None)),
        (None, true) => match typed_plain(&text, true) {
            None => return Ok((GoKey::String(text), None)),
            Some(typed) => typed,
        },
        _ => scalar(&text, tag, implicit)?,
    };
    let key = match typed {
        GoScalar::Null => GoKey::Null,
        GoScalar::Bool(b) => GoKey::Bool(b),
        GoScalar::Int(i) => GoKey::Int(i),
        GoScalar::Uint(u) => GoKey::Uint(u),
        GoScalar::BigInt => GoKey::BigInt(text.clone()),
        GoScalar::Float(f) if f.is_nan() => GoKey::NaN(set_before),
        // 0.0 and -0.0 are one key, as Go's == says.
        GoScalar::Float(0.0) => GoKey::Float(0),
        GoScalar::Float(f) => GoKey::Float(f.to_bits()),
        GoScalar::String(s) => GoKey::String(s),
    };
    Ok((key, Some(text)))
}

fn merge(raw: Raw, map: &mut GoMap, path: Option<&At>) -> Result<(), ParseError> {
    let refuse = |at: Pos, path: Option<&At>| {
        fail(
            at,
            path,
            "`<<` (merge key) requires a mapping or a sequence of mappings as the value (Go's reader refuses anything else)",
        )
    };
    match raw.kind {
        RawKind::Map(entries) => map_into(entries, map, path),
        // Earlier mappings take precedence: they are applied last.
        RawKind::Seq(items) => {
            // Every item is checked before any is merged.
            let maps = items
                .into_iter()
                .map(|item| match item.kind {
                    RawKind::Map(entries) => Ok(entries),
                    _ => Err(refuse(item.pos, path)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            for entries in maps.into_iter().rev() {
                map_into(entries, map, path)?;
            }
            Ok(())
        }
        RawKind::Scalar { .. } => Err(refuse(raw.pos, path)),
    }
}

/// Go's decoding of one scalar (yaml.v2 `decoder.scalar` with `resolve`).
pub fn scalar(text: &str, tag: Option<&str>, implicit: bool) -> Result<GoScalar, String> {
    let Some(tag) = tag.or(if implicit { Some("") } else { None }) else {
        return Ok(GoScalar::String(text.to_string()));
    };
    let short = tag.strip_prefix(LONG);
    match short {
        _ if tag.is_empty() => Ok(resolve_implicit(text, true)),
        Some("str") => Ok(GoScalar::String(text.to_string())),
        Some("binary") => binary(text).map(GoScalar::String),
        Some(t @ ("int" | "float" | "bool" | "null" | "timestamp")) => {
            let resolved = resolve_implicit(text, t == "timestamp");
            let (got, ok) = match (&resolved, t) {
                (GoScalar::Int(_) | GoScalar::Uint(_) | GoScalar::BigInt, "int") => ("int", true),
                (GoScalar::Int(i), "float") => return Ok(GoScalar::Float(*i as f64)),
                (GoScalar::Float(_), "float") => ("float", true),
                (GoScalar::Bool(_), "bool") => ("bool", true),
                (GoScalar::Null, "null") => ("null", true),
                (GoScalar::String(_), "timestamp") if is_timestamp(text) => ("timestamp", true),
                (GoScalar::Int(_) | GoScalar::Uint(_) | GoScalar::BigInt, _) => ("int", false),
                (GoScalar::Float(_), _) => ("float", false),
                (GoScalar::Bool(_), _) => ("bool", false),
                (GoScalar::Null, _) => ("null", false),
                (GoScalar::String(_), _) => ("str", false),
            };
            if ok {
                Ok(resolved)
            } else {
                Err(format!(
                    "cannot decode !!{got} `{text}` as a !!{t} (Go's reader refuses the document)"
                ))
            }
        }
        // `!`, `!local`, `!!merge`, `!!map`, …: the text, as a string.
        _ => Ok(GoScalar::String(text.to_string())),
    }
}

/// `!!binary`: standard base64 (padding required), line breaks ignored; the bytes become a
/// string the way Go's JSON encoder writes them (invalid UTF-8 replaced).
fn binary(text: &str) -> Result<String, String> {
    let compact: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| {
            "!!binary value contains invalid base64 data (Go's reader refuses the document)"
                .to_string()
        })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// yaml.v2's typing of a plain scalar. `timestamps`: a date-like text is tried as a timestamp
/// first (it stays a string either way, but then it is never a number).
pub fn resolve_implicit(text: &str, timestamps: bool) -> GoScalar {
    typed_plain(text, timestamps).unwrap_or_else(|| GoScalar::String(text.to_string()))
}

/// [`resolve_implicit`] without building the string: `None` when the text is a string (the
/// text itself), so a question about a scalar's type allocates nothing.
pub(super) fn typed_plain(text: &str, timestamps: bool) -> Option<GoScalar> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(GoScalar::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Some(GoScalar::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Some(GoScalar::Bool(false));
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(GoScalar::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(GoScalar::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(GoScalar::Float(f64::NAN)),
        _ => {}
    }
    let string = || None;
    match text.as_bytes()[0] {
        // Go: strconv.ParseFloat on the text as it is (no `_` removed).
        b'.' => {
            if !text.contains('_')
                && is_yaml_float(text)
                && let Some(f) = finite(text)
            {
                return Some(GoScalar::Float(f));
            }
            string()
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if timestamps && is_timestamp(text) {
                return string();
            }
            let plain = text.replace('_', "");
            match parse_go_int(&plain) {
                IntParse::Int(i) => return Some(GoScalar::Int(i)),
                IntParse::Uint(u) => return Some(GoScalar::Uint(u)),
                IntParse::TooBig | IntParse::Invalid => {}
            }
            if is_yaml_float(&plain) {
                return finite(&plain).map(GoScalar::Float);
            }
            if matches!(parse_go_int(&plain), IntParse::TooBig) {
                return Some(GoScalar::BigInt);
            }
            string()
        }
        _ => string(),
    }
}

/// A float Go's ParseFloat accepts without a range error.
fn finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

enum IntParse {
    Int(i64),
    Uint(u64),
    /// Valid digits, more than 64 bits.
    TooBig,
    Invalid,
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: sign, then `0x`, `0o`, `0b`, a leading
/// `0` (octal) or decimal digits.
fn parse_go_int(plain: &str) -> IntParse {
    let (neg, body) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain),
    };
    let (radix, digits) =
        if let Some(d) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, d)
        } else if let Some(d) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, d)
        } else if let Some(d) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, d)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return IntParse::Invalid;
    }
    let Ok(magnitude) = u128::from_str_radix(digits, radix) else {
        return IntParse::TooBig;
    };
    if neg {
        match i64::try_from(-(magnitude as i128)) {
            Ok(i) if magnitude <= i64::MAX as u128 + 1 => IntParse::Int(i),
            _ => IntParse::TooBig,
        }
    } else if let Ok(i) = i64::try_from(magnitude) {
        IntParse::Int(i)
    } else if let Ok(u) = u64::try_from(magnitude) {
        IntParse::Uint(u)
    } else {
        IntParse::TooBig
    }
}

/// yaml.v2's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
pub fn is_yaml_float(text: &str) -> bool {
    let mut s = text.as_bytes();
    if matches!(s.first(), Some(b'+' | b'-')) {
        s = &s[1..];
    }
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let lead = digits(s);
    s = &s[lead..];
    if lead == 0 {
        if s.first() != Some(&b'.') {
            return false;
        }
        let frac = digits(&s[1..]);
        if frac == 0 {
            return false;
        }
        s = &s[1 + frac..];
    } else if s.first() == Some(&b'.') {
        let frac = digits(&s[1..]);
        s = &s[1 + frac..];
    }
    if matches!(s.first(), Some(b'e' | b'E')) {
        s = &s[1..];
        if matches!(s.first(), Some(b'+' | b'-')) {
            s = &s[1..];
        }
        let exp = digits(s);
        if exp == 0 {
            return false;
        }
        s = &s[exp..];
    }
    s.is_empty()
}

/// Go's timestamp check: `YYYY-` then one of the formats yaml.v2 accepts. Only whether it is one
/// matters (a timestamp stays a string), so the shape is checked, not the calendar.
fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let num = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|c| c.is_ascii_digit())
    };
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some((&text[i..i + 1], &text[i + 1..]))),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let date_ok = parts.len() == 3
        && num(parts[0], 4)
        && num(parts[1], 2)
        && num(parts[2], 2)
        && (1..=12).contains(&parts[1].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&parts[2].parse::<u32>().unwrap_or(0));
    if !date_ok {
        return false;
    }
    let Some((sep, rest)) = time else {
        return true;
    };
    // `T`/`t` forms need a zone (`Z` or ±hh:mm); the space form has none.
    let (clock, zone_ok) = if sep == " " {
        (rest, true)
    } else if let Some(c) = rest.strip_suffix('Z') {
        (c, true)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let z = &rest[i + 1..];
        let zp: Vec<&str> = z.split(':').collect();
        (&rest[..i], zp.len() == 2 && num(zp[0], 2) && num(zp[1], 2))
    } else {
        (rest, false)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((h, f)) => (h, Some(f)),
        None => (clock, None),
    };
    let t: Vec<&str> = hms.split(':').collect();
    zone_ok
        && t.len() == 3
        && num(t[0], 2)
        && num(t[1], 2)
        && num(t[2], 2)
        && t[0].parse::<u32>().unwrap_or(99) < 24
        && t[1].parse::<u32>().unwrap_or(99) < 60
        && t[2].parse::<u32>().unwrap_or(99) < 60
        && frac.is_none_or(|f| num(f, 9))
}

/// A typed scalar as a node whose text and style type it the same way.
fn scalar_node(s: GoScalar) -> Result<Node, String> {
    Ok(match s {
        GoScalar::Null => Node::null(),
        GoScalar::Bool(b) => Node::bool(b),
        GoScalar::Int(i) => Node::int(i),
        GoScalar::Uint(u) => float_node(u as f64),
        GoScalar::BigInt => {
            return Err(
                "an integer beyond 64 bits (Kubernetes has no such field; refused)".to_string(),
            );
        }
        GoScalar::Float(f) if !f.is_finite() => {
            return Err(format!(
                "{} is not a JSON number (Go's reader refuses the document: \"json: unsupported value\")",
                if f.is_nan() { ".nan" } else { ".inf" }
            ));
        }
        GoScalar::Float(f) => float_node(f),
        GoScalar::String(s) => Node::string(s),
    })
}

/// A finite float: a whole number in range is written as the integer Kubernetes reads (Go's
/// JSON encoder writes `80`, not `80.0`); anything else in a form Go's float pattern takes.
fn float_node(f: f64) -> Node {
    const LIMIT: f64 = 9.0e15; // integers below 2^53 are exact in f64
    if f.fract() == 0.0 && f.abs() < LIMIT {
        return Node::int(f as i64);
    }
    let text = if f.abs() >= 1e-4 && f.abs() < LIMIT {
        format!("{f}")
    } else {
        format!("{f:e}")
    };
    Node::Scalar(Scalar {
        text,
        style: Style::Plain,
    })
}

/// A float key as sigs.k8s.io/yaml writes it: Go's `strconv.FormatFloat(f, 'g', -1, 32)`, the
/// shortest float32 digits, exponent form below 1e-4 and from 1e6 on.
fn go_float32_key(f: f64) -> String {
    let f = f as f32;
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `1.2345679e8`.
    let sci = format!("{:e}", f.abs());
    // `{:e}` of a finite float always writes `e` and a whole exponent.
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{dot}{rest}e{esign}{:02}", exp.abs());
    }
    let point = exp + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    fn json(text: &str) -> serde_json::Value {
        parse_single(text).unwrap().to_json()
    }

    fn refused(text: &str) -> String {
        parse_single(text).unwrap_err().message
    }

    // Each row's expected reading is kubectl v1.37's (`kubectl label --local -o json`).
    #[test]
    fn tags_on_values() {
        let cases: &[(&str, serde_json::Value)] = &[
            ("! 123", "123".into()),
            ("!<tag:yaml.org,2002:str> 123", "123".into()),
            ("! yes", "yes".into()),
            ("!!str", "".into()),
            ("!!null", serde_json::Value::Null),
            ("!!null ~", serde_json::Value::Null),
            ("!!int \"0\"", 0.into()),
            ("!!float \"0\"", 0.into()),
            ("!!float 1", 1.into()),
            ("!!bool \"true\"", true.into()),
            ("!!binary aGVsbG8=", "hello".into()),
            ("!foo bar", "bar".into()),
            ("!!merge x", "x".into()),
            ("!!timestamp 2001-12-14", "2001-12-14".into()),
            ("!!str {k: v}", serde_json::json!({"k": "v"})),
            ("!!map [1]", serde_json::json!([1])),
        ];
        for (text, want) in cases {
            assert_eq!(json(&format!("v: {text}\n"))["v"], *want, "{text}");
        }
    }

    #[test]
    fn tags_go_refuses() {
        for text in [
            "!!int abc",
            "!!int 1.5",
            "!!null x",
            "!!bool 1",
            "!!binary \"@@\"",
        ] {
            let m = refused(&format!("v: {text}\n"));
            assert!(m.starts_with("v: "), "{text}: {m}");
        }
        assert_eq!(
            refused("v: !!int abc\n"),
            "v: cannot decode !!str `abc` as a !!int (Go's reader refuses the document)"
        );
    }

    #[test]
    fn numbers() {
        let v = json(
            "a: 0.0\nb: 8e1\nc: 1e21\nd: 0.5\ne: 1e-7\nh: 2001-12-14\nj: 0x10\nk: -0b11\no: 1_000\np: 0o17\nq: 012\nr: +12\ns: .5\nt: 1.\nu: 9223372036854775807\nv: -9223372036854775808\nw: 1e400\nx: ._5\n",
        );
        assert_eq!(v["a"], 0);
        assert_eq!(v["b"], 80);
        assert_eq!(v["c"].as_f64(), Some(1e21));
        assert_eq!(v["d"].as_f64(), Some(0.5));
        assert_eq!(v["e"].as_f64(), Some(1e-7));
        assert_eq!(v["h"], "2001-12-14");
        assert_eq!(v["j"], 16);
        assert_eq!(v["k"], -3);
        assert_eq!(v["o"], 1000);
        assert_eq!(v["p"], 15);
        assert_eq!(v["q"], 10);
        assert_eq!(v["r"], 12);
        assert_eq!(v["s"].as_f64(), Some(0.5));
        assert_eq!(v["t"], 1);
        assert_eq!(v["u"], i64::MAX);
        assert_eq!(v["v"], i64::MIN);
        // Out of float range, and `_` after a leading dot: strings to Go.
        assert_eq!(v["w"], "1e400");
        assert_eq!(v["x"], "._5");
        assert!(refused("a: .nan\n").contains("json: unsupported value"));
        assert!(refused("a: [-.inf]\n").starts_with("a.[0]: "));
    }

    #[test]
    fn keys() {
        let v = json(
            "{1.5: a, 1e3: b, true: c, 0x10: d, 0.1: e, 1e20: f, 123456789.5: g, ? !!binary aG9zdE5ldHdvcms= : h, ! 1: i}",
        );
        let node = parse_single("{1.5: a, 1e3: b, true: c, 0x10: d, 0.1: e, 1e20: f, 123456789.5: g, ? !!binary aG9zdE5ldHdvcms= : h, ! 1: i}").unwrap();
        let keys: Vec<String> = node
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.key_text())
            .collect();
        assert_eq!(
            keys,
            [
                "1.5",
                "1000",
                "true",
                "16",
                "0.1",
                "1e+20",
                "1.2345679e+08",
                "hostNetwork",
                "1"
            ]
        );
        assert_eq!(v["hostNetwork"], "h");
        assert!(refused("{~: 1}\n").contains("a null mapping key"));
        assert!(refused("{1: a, \"1\": b}\n").contains("both read as \"1\""));
        assert!(refused("{1: a, 1.0: b}\n").contains("both read as \"1\""));
        // The same Go key twice: the last wins.
        assert_eq!(json("{yes: 1, true: 2}\n")["true"], 2);
    }

    #[test]
    fn merge_keys() {
        let v = json(
            "a: &a {p: 1}\nx: {privileged: false, <<: {privileged: true}}\ny: {<<: {privileged: true}, privileged: false}\nz: {<<: [{a: 1}, {a: 2, b: 2}]}\nw: {\"<<\": {q: 1}}\nv: {!!merge <<: {q: 1}}\nu: {!!merge \"<<\": {q: 1}}\nm: {<<: *a, <<: {q: 2}}\nn: {<<: [*a, {p: 3}]}\no: {<<: {<<: {deep: 1}}}\ns: {! <<: {a: 1}}\nr: {!foo <<: {a: 1}}\nq: {<<: []}\n",
        );
        assert_eq!(v["x"], serde_json::json!({"privileged": true}));
        // `y` and `n` are boolean keys.
        assert_eq!(v["true"], serde_json::json!({"privileged": false}));
        assert_eq!(v["false"], serde_json::json!({"p": 1}));
        assert_eq!(v["z"], serde_json::json!({"a": 1, "b": 2}));
        assert_eq!(v["w"], serde_json::json!({"<<": {"q": 1}}));
        assert_eq!(v["v"], serde_json::json!({"q": 1}));
        assert_eq!(v["u"], serde_json::json!({"q": 1}));
        assert_eq!(v["m"], serde_json::json!({"p": 1, "q": 2}));
        assert_eq!(v["o"], serde_json::json!({"deep": 1}));
        assert_eq!(v["s"], serde_json::json!({"a": 1}));
        assert_eq!(v["r"], serde_json::json!({"<<": {"a": 1}}));
        assert_eq!(v["q"], serde_json::json!({}));
        for bad in ["x: {<<: 1}\n", "x: {<<: [1]}\n", "x: {<<: ~}\n"] {
            assert!(refused(bad).contains("merge key"), "{bad}");
        }
    }

    #[test]
    fn float32_keys_as_go_prints_them() {
        for (f, want) in [
            (2.5, "2.5"),
            (1000.0, "1000"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-1.5e-7, "-1.5e-07"),
            (1e20, "1e+20"),
        ] {
            assert_eq!(go_float32_key(f), want, "{f}");
        }
    }
}
