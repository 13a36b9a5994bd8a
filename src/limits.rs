//! Bounds on what locust-planton reads, so hostile or runaway input is refused with a clear
//! message instead of using up memory or the stack (docs/limits.md). Each bound sits far
//! above anything Kubernetes or Helm can store: etcd keeps an object of at most 1.5 MiB, and Helm
//! keeps a whole release in one Secret of at most 1 MiB (compressed).

/// A post-renderer stream (stdin), and the stream written back.
pub const MAX_STREAM_BYTES: usize = 256 * 1024 * 1024;
/// One YAML document: a manifest in the stream (as read, and as written once its aliases are
/// expanded), a spec, a values file.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;
/// Nesting of mappings and sequences. Real objects nest a few dozen levels; the bound keeps every
/// recursive walk well inside a thread's stack.
pub const MAX_DEPTH: usize = 1000;

/// `256 MiB`, `1.5 MiB (1572864 bytes)`, `900 bytes`: sizes for messages, exact where a rounded
/// figure could read as equal to a bound.
pub fn mib(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    match bytes {
        b if b % MIB == 0 && b > 0 => format!("{} MiB", b / MIB),
        b if b >= MIB => format!("{:.1} MiB ({b} bytes)", b as f64 / MIB as f64),
        b => format!("{b} bytes"),
    }
}

/// Reads at most `limit` bytes; more is an error naming the bound (the rest is never read).
pub fn read_bounded(reader: impl std::io::Read, limit: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        return Err(std::io::Error::other(format!(
            "larger than {}, the most locust-planton reads (docs/limits.md)",
            mib(limit)
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(mib(MAX_STREAM_BYTES), "256 MiB");
        assert_eq!(mib(3 * 512 * 1024), "1.5 MiB (1572864 bytes)");
        assert_eq!(mib(900), "900 bytes");
    }

    #[test]
    fn reading_stops_one_byte_past_the_bound() {
        assert_eq!(read_bounded(&b"abcd"[..], 4).unwrap(), b"abcd");
        let e = read_bounded(std::io::repeat(b'x'), 10).unwrap_err();
        assert!(e.to_string().starts_with("larger than 10 bytes"), "{e}");
    }
}
