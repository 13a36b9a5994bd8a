//! Properties that must hold for any input, checked by the fuzz targets (`fuzz/`) and by the
//! regression tests that replay their findings. Each function panics when a property breaks.

use crate::postrender::{Options, post_render};
use crate::yaml::{emit_document, parse_document};

/// The post-renderer never panics; on success its output is non-empty, parses document by
/// document, and is a fixed point (post-rendering it again changes nothing).
pub fn post_render_holds(bytes: &[u8]) {
    let Ok(input) = std::str::from_utf8(bytes) else {
        return;
    };
    let options = Options::default();
    let Ok(outcome) = post_render(input, &options) else {
        return;
    };
    let output = outcome.text();
    assert!(!output.trim().is_empty(), "success with empty output");
    for doc in crate::stream::split(&output).expect("own output splits") {
        if let Err(e) = parse_document(&doc.yaml()) {
            panic!(
                "output document {} does not parse: {e}\n{}",
                doc.index, doc.text
            );
        }
    }
    let again = post_render(&output, &options)
        .unwrap_or_else(|e| panic!("own output rejected: {e}"))
        .text();
    assert_eq!(again, output, "not idempotent");
}

/// The spec reader never panics; a valid spec gives values that parse back.
pub fn spec_holds(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok((spec, _)) = crate::spec::read(text) else {
        return;
    };
    let s = crate::values::synthesize(&spec);
    let rendered = crate::values::render_values(&s.values);
    let back = crate::yaml::parse_single(&rendered)
        .unwrap_or_else(|e| panic!("values do not parse: {e}\n{rendered}"));
    assert_eq!(
        back.to_json(),
        s.values.to_json(),
        "values changed in the round trip"
    );
}

/// Emit → parse gives back the same value, and emitting that again gives the same text.
pub fn emit_round_trip_holds(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(Some(node)) = parse_document(text) else {
        return;
    };
    let emitted = emit_document(&node);
    let back = parse_document(&emitted)
        .unwrap_or_else(|e| panic!("emitted YAML does not parse: {e}\n{emitted}"));
    let back = back.unwrap_or_else(|| panic!("emitted YAML is empty:\n{emitted}"));
    let (a, b) = (node.to_json(), back.to_json());
    // NaN is the one value that never equals itself.
    if !emitted.contains(".nan") && !emitted.contains(".NaN") && !emitted.contains(".NAN") {
        assert_eq!(a, b, "value changed:\n{emitted}");
    }
    assert_eq!(emit_document(&back), emitted, "emitting is not stable");
}
