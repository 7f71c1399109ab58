//! Two-pass loudness normalisation: the first pass's report, and the second pass's filter.
//!
//! `loudnorm` in one pass guesses from a sliding window; fed the whole file's measurements it
//! can apply one linear gain (when the peaks allow it), which keeps the mix's dynamics.
//! -14 LUFS integrated with true peak at most -1 dBTP is what YouTube, Spotify and the social
//! platforms normalise to, so our outputs play at their level without being turned down.

use serde_json::Value;

/// Integrated loudness target, LUFS
pub const TARGET_I: f64 = -14.0;
/// True peak ceiling of the mix, dBTP: half a dB under the -1 dBTP the outputs must meet, since
/// the AAC encode overshoots the PCM mix's peaks by a few tenths (measured: -0.9 from -1.0)
pub const TARGET_TP: f64 = -1.5;
/// Loudness range target, LU (raised to the measured range in the second pass so a mix that
/// is already within reach is normalised linearly)
pub const TARGET_LRA: f64 = 11.0;

/// Below this the mix is silence (the EBU R128 absolute gate): there is nothing to normalise
const SILENCE_LUFS: f64 = -70.0;

/// What the first pass measured
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Integrated loudness, LUFS (`-inf` for silence)
    pub input_i: f64,
    /// True peak, dBTP
    pub input_tp: f64,
    /// Loudness range, LU
    pub input_lra: f64,
    /// Gating threshold, LUFS
    pub input_thresh: f64,
    /// The offset gain loudnorm suggests for the second pass, LU
    pub target_offset: f64,
}

/// Why the first pass's report could not be read
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoudnessError {
    /// ffmpeg printed no JSON object
    #[error("loudnorm printed no measurement")]
    NoReport,
    /// The JSON did not parse
    #[error("loudnorm's measurement is not valid JSON: {0}")]
    Json(String),
    /// A field is missing or not a number
    #[error("loudnorm's measurement has no numeric {0}")]
    Field(&'static str),
}

/// The first pass's filter (ffmpeg prints the JSON report on stderr at the end)
pub fn first_pass_filter() -> String {
    format!("loudnorm=I={TARGET_I}:TP={TARGET_TP}:LRA={TARGET_LRA}:print_format=json")
}

/// Reads the JSON report from the first pass's stderr (the last `{...}` block in it)
pub fn parse_report(stderr: &str) -> Result<Measured, LoudnessError> {
    let start = stderr.rfind('{').ok_or(LoudnessError::NoReport)?;
    let len = stderr[start..].find('}').ok_or(LoudnessError::NoReport)?;
    let json = &stderr[start..=start + len];
    let v: Value = serde_json::from_str(json).map_err(|e| LoudnessError::Json(e.to_string()))?;
    let field = |name: &'static str| -> Result<f64, LoudnessError> {
        // loudnorm quotes its numbers ("-27.61", "-inf"); accept bare numbers too
        match v.get(name) {
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
        .filter(|n| !n.is_nan())
        .ok_or(LoudnessError::Field(name))
    };
    Ok(Measured {
        input_i: field("input_i")?,
        input_tp: field("input_tp")?,
        input_lra: field("input_lra")?,
        input_thresh: field("input_thresh")?,
        target_offset: field("target_offset")?,
    })
}

/// Whether the measured mix is silence (no gain can bring it to the target)
pub fn is_silent(m: &Measured) -> bool {
    !(m.input_i.is_finite() && m.input_i > SILENCE_LUFS)
}

/// The second pass's filter chain, ending at 48 kHz stereo (loudnorm works at 192 kHz); `None`
/// for silence, which is left as it is
pub fn second_pass_filter(m: &Measured) -> Option<String> {
    if is_silent(m) {
        return None;
    }
    let finite = |x: f64, lo: f64, hi: f64, fallback: f64| {
        if x.is_finite() {
            x.clamp(lo, hi)
        } else {
            fallback
        }
    };
    let lra = finite(m.input_lra, 0.0, 99.0, 0.0);
    let target_lra = format!("{:.1}", lra.clamp(TARGET_LRA, 50.0));
    Some(format!(
        "loudnorm=I={TARGET_I}:TP={TARGET_TP}:LRA={target_lra}:measured_I={i:.2}:measured_TP={tp:.2}:\
         measured_LRA={lra:.2}:measured_thresh={thresh:.2}:offset={offset:.2}:linear=true:\
         print_format=summary,aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo",
        i = finite(m.input_i, -99.0, 0.0, -99.0),
        tp = finite(m.input_tp, -99.0, 99.0, 99.0),
        thresh = finite(m.input_thresh, -99.0, 0.0, -70.0),
        offset = finite(m.target_offset, -99.0, 99.0, 0.0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "size=N/A time=00:00:04.50 bitrate=N/A speed= 150x\n\
        video:0kB audio:3375kB subtitle:0kB other streams:0kB global headers:0kB\n\
        [Parsed_loudnorm_0 @ 0x5622aa141900] \n{\n\t\"input_i\" : \"-18.61\",\n\t\"input_tp\" : \"-3.37\",\n\
        \t\"input_lra\" : \"2.20\",\n\t\"input_thresh\" : \"-29.38\",\n\t\"output_i\" : \"-14.44\",\n\
        \t\"output_tp\" : \"-1.00\",\n\t\"output_lra\" : \"0.90\",\n\t\"output_thresh\" : \"-24.98\",\n\
        \t\"normalization_type\" : \"dynamic\",\n\t\"target_offset\" : \"0.44\"\n}\n";

    #[test]
    fn reads_the_first_pass_report() {
        let m = parse_report(REPORT).unwrap();
        assert_eq!(
            m,
            Measured {
                input_i: -18.61,
                input_tp: -3.37,
                input_lra: 2.2,
                input_thresh: -29.38,
                target_offset: 0.44
            }
        );
        assert!(!is_silent(&m));
        let f = second_pass_filter(&m).unwrap();
        assert!(
            f.starts_with("loudnorm=I=-14:TP=-1.5:LRA=11.0:measured_I=-18.61:measured_TP=-3.37:")
        );
        assert!(f.contains(":measured_LRA=2.20:measured_thresh=-29.38:offset=0.44:linear=true:"));
        assert!(f.ends_with(",aresample=48000,aformat=sample_fmts=s16:channel_layouts=stereo"));
        assert_eq!(
            first_pass_filter(),
            "loudnorm=I=-14:TP=-1.5:LRA=11:print_format=json"
        );
    }

    #[test]
    fn wide_range_raises_the_lra_target() {
        let m = Measured {
            input_lra: 18.06,
            ..parse_report(REPORT).unwrap()
        };
        assert!(second_pass_filter(&m).unwrap().contains("LRA=18.1:"));
    }

    #[test]
    fn silence_is_left_alone() {
        let silent = REPORT
            .replace("\"-18.61\"", "\"-inf\"")
            .replace("\"-3.37\"", "\"-inf\"")
            .replace("\"-29.38\"", "\"-70.00\"");
        let m = parse_report(&silent).unwrap();
        assert!(m.input_i.is_infinite());
        assert!(is_silent(&m));
        assert_eq!(second_pass_filter(&m), None);
    }

    #[test]
    fn refuses_reports_without_numbers() {
        assert_eq!(parse_report("no json here"), Err(LoudnessError::NoReport));
        assert!(matches!(
            parse_report("{ oops }"),
            Err(LoudnessError::Json(_))
        ));
        assert_eq!(
            parse_report("{\"input_i\": \"x\"}"),
            Err(LoudnessError::Field("input_i"))
        );
    }
}
