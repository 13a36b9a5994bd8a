//! Durations as Locust's `--run-time` reads them: hours, minutes and seconds, in that order,
//! each at most once (`30s`, `5m`, `1h30m`, `2h15m10s`). The one duration parser of the tool:
//! `spec.loadTest.run.runTime` (passed to Locust as written) and `wait --timeout/--interval`.
//!
//! Stricter than Locust on purpose: Locust also takes a bare number as seconds, and it reads
//! only the longest valid prefix (`30m1h` runs 30 minutes); both are refused here, so what a
//! manifest says is what Locust does.

/// Seconds in `s`, or why it is not a duration.
pub fn parse(s: &str) -> Result<u64, String> {
    let bad = || format!("`{s}` is not a duration such as `30s`, `5m` or `1h30m`");
    let mut rest = s;
    let mut total: u64 = 0;
    // Units seen so far must be in this order; each appears at most once.
    let mut units = ['h', 'm', 's'].iter();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit = rest[digits..].chars().next().ok_or_else(bad)?;
        if digits == 0 || !units.any(|u| *u == unit) {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        let factor = match unit {
            'h' => 3600,
            'm' => 60,
            _ => 1,
        };
        total = n
            .checked_mul(factor)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(bad)?;
        rest = &rest[digits + 1..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (ok, secs) in [
            ("30s", 30),
            ("5m", 300),
            ("1h30m", 5400),
            ("2h", 7200),
            ("1h2m3s", 3723),
            ("45s", 45),
            ("0s", 0),
        ] {
            assert_eq!(parse(ok), Ok(secs), "{ok}");
        }
        for bad in [
            "",
            "5",
            "m",
            "5 m",
            "-5m",
            "5x",
            "1.5m",
            "30m1h",
            "1s1s",
            "1h1h",
            "5m ",
            "1h30",
            "99999999999999999999s",
            "5124095576030432h",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
    }
}
