//! Field spellings: protobuf JSON accepts each field as lowerCamelCase or snake_case.

pub fn snake_to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The known field closest to an unknown one, if any is close enough to be a likely typo
/// (`isEnabled` → `enabled`, `mainPy` → `mainPyContent`).
pub fn did_you_mean<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    let g = snake_to_camel(given).to_lowercase();
    known
        .iter()
        .map(|k| {
            let kl = k.to_lowercase();
            let contains = kl.len() >= 4 && (g.contains(&kl) || kl.contains(&g)) && g.len() >= 3;
            let dist = strsim::levenshtein(&g, &kl);
            let score = if contains { 0 } else { dist };
            (
                score,
                *k,
                dist <= (kl.len().max(g.len()) / 3).max(2) || contains,
            )
        })
        .filter(|(_, _, close)| *close)
        .min_by_key(|(score, k, _)| (*score, *k))
        .map(|(_, k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(snake_to_camel("main_py_content"), "mainPyContent");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("isEnabled", &["enabled", "dnsDomain"]),
            Some("enabled")
        );
        assert_eq!(
            did_you_mean("mainPy", &["name", "mainPyContent", "pipPackages"]),
            Some("mainPyContent")
        );
        assert_eq!(
            did_you_mean("replica", &["replicas", "resources"]),
            Some("replicas")
        );
        assert_eq!(did_you_mean("zzzzzz", &["replicas", "resources"]), None);
    }
}
