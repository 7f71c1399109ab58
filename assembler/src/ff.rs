//! Small helpers shared by the argument builders: the common flags, durations, and escaping of
//! values inside a filter graph.

/// Arguments every ffmpeg run starts with: quiet, never reading stdin, overwriting
pub fn base_args() -> Vec<String> {
    [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-y",
    ]
    .map(String::from)
    .to_vec()
}

/// Formats seconds for ffmpeg (millisecond precision)
pub fn secs(s: f64) -> String {
    format!("{s:.3}")
}

/// Escapes a value for a filter option inside a `-filter_complex` graph.
///
/// ffmpeg parses a graph at two levels: the option value (where `\`, `'` and `:` are special)
/// and then the graph (where `\`, `'`, `[`, `]`, `,` and `;` are). Escaping for the inner level
/// first and the outer level second makes any path or text arrive intact.
pub fn escape_value(v: &str) -> String {
    let inner = escape(v, &['\\', '\'', ':']);
    escape(&inner, &['\\', '\'', '[', ']', ',', ';'])
}

fn escape(v: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_both_levels() {
        assert_eq!(
            escape_value("/usr/share/fonts/a.ttf"),
            "/usr/share/fonts/a.ttf"
        );
        assert_eq!(escape_value("C:\\f"), "C\\\\:\\\\\\\\f");
        assert_eq!(escape_value("a,b;[c]"), "a\\,b\\;\\[c\\]");
        assert_eq!(escape_value("it's"), "it\\\\\\'s");
        assert_eq!(secs(2.0), "2.000");
        assert_eq!(secs(1.23456), "1.235");
    }
}
