//! Speech and music.
//!
//! - speech: `espeak-ng -v en-us+<variant> -s <wpm> -p <pitch> -f line.txt -w speech.wav`, then
//!   `ffmpeg -i speech.wav -af apad=pad_dur=0.2 <encoder> out`; without espeak-ng, a wavering
//!   tone (`aevalsrc`) as long as a speaker would take (about 15 characters a second)
//! - music: `ffmpeg -f lavfi -i aevalsrc=exprs='<chord progression>':s=<rate>:d=<one cycle>
//!   -af aloop,atrim=end=<seconds>,afade=in,afade=out <encoder> out`: four slow swelling triads
//!   over a bass note, the key, progression and pace picked from the task
//!
//! Encoders: MP3 (`libmp3lame`, the requested sample rate and bitrate), WAV and raw PCM
//! (`pcm_s16le`).

use super::tool::{self, ESPEAK};
use super::{Job, MediaKind, Sound, Spec, bitexact};

/// The line spoken, written into the work directory
pub const LINE_FILE: &str = "line.txt";
/// espeak-ng's output
const SPEECH_WAV: &str = "speech.wav";
/// espeak-ng voice variants a voice id picks from
const VARIANTS: [&str; 7] = ["m1", "m3", "f2", "m2", "f3", "m7", "f4"];
/// Roots of the music's key (Hz): A2, C3, D3, E3, F2, G2
const ROOTS: [f64; 6] = [110.0, 130.813, 146.832, 164.814, 87.307, 97.999];
/// Progressions: (semitones above the root, minor chord)
const PROGRESSIONS: [[(i32, bool); 4]; 4] = [
    [(0, false), (7, false), (9, true), (5, false)],
    [(0, false), (5, false), (7, false), (5, false)],
    [(0, true), (8, false), (3, false), (10, false)],
    [(0, false), (9, true), (5, false), (7, false)],
];

/// Characters per second of a speaker, for the tone fallback and duration estimates
pub const CHARS_PER_SECOND: f64 = 15.0;

/// The encoder arguments of an audio `kind`
fn encoder(spec: &Spec, channels: u32) -> Vec<String> {
    let rate = spec.sample_rate.clamp(8_000, 48_000).to_string();
    let ch = channels.to_string();
    let mut args: Vec<String> = match spec.kind {
        MediaKind::Wav => vec!["-c:a", "pcm_s16le", "-f", "wav"],
        MediaKind::Pcm => vec!["-c:a", "pcm_s16le", "-f", "s16le"],
        // No ID3 tag: the file starts with its first frame, as providers' MP3s do
        _ => vec!["-c:a", "libmp3lame", "-f", "mp3", "-id3v2_version", "0"],
    }
    .into_iter()
    .map(String::from)
    .collect();
    if matches!(spec.kind, MediaKind::Mp3) {
        args.extend([
            "-b:a".into(),
            format!("{}k", spec.bitrate_kbps.clamp(32, 320)),
        ]);
    }
    args.extend(["-ar".into(), rate, "-ac".into(), ch]);
    args.extend(bitexact());
    args
}

/// The job that renders `spec` (speech or music) into `out`
pub fn job(spec: &Spec, out: &str) -> Job {
    match spec.sound {
        Sound::Speech if tool::has_espeak() => speech(spec, out),
        Sound::Speech => tone(spec, out),
        Sound::Music => music(spec, out),
    }
}

fn speech(spec: &Spec, out: &str) -> Job {
    let mut job = Job::new(out);
    let line = spec.text.trim();
    job.files.push((
        LINE_FILE,
        if line.is_empty() {
            "...".into()
        } else {
            line.into()
        },
    ));
    let v = crate::util::hash64(&[spec.voice.as_bytes()]);
    let variant = VARIANTS[(v % VARIANTS.len() as u64) as usize];
    let pitch = 35 + (v >> 8) % 30;
    let wpm = 160 + (v >> 16) % 20;
    job.step(
        ESPEAK,
        [
            "-v".to_string(),
            format!("en-us+{variant}"),
            "-s".into(),
            wpm.to_string(),
            "-p".into(),
            pitch.to_string(),
            "-f".into(),
            LINE_FILE.into(),
            "-w".into(),
            SPEECH_WAV.into(),
        ]
        .to_vec(),
    );
    let mut args: Vec<String> = vec![
        "-i".into(),
        SPEECH_WAV.into(),
        "-af".into(),
        "apad=pad_dur=0.2".into(),
    ];
    args.extend(encoder(spec, 1));
    job.ffmpeg(args);
    job
}

/// A tone that rises and falls like a voice, `spec.seconds` long
fn tone(spec: &Spec, out: &str) -> Job {
    let mut job = Job::new(out);
    let v = crate::util::hash64(&[spec.voice.as_bytes()]);
    let base = 140 + (v % 80);
    let expr = format!(
        "0.3*sin(2*PI*{base}*t+6*sin(2*PI*0.9*t))*(0.55+0.45*sin(2*PI*3.7*t))*pow(sin(PI*min(t/0.15,1)/2),2)"
    );
    let mut args: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!(
            "aevalsrc=exprs='{expr}':s={}:d={:.3}",
            spec.sample_rate.clamp(8_000, 48_000),
            spec.seconds.max(0.2)
        ),
        "-af".into(),
        format!(
            "afade=t=out:st={:.3}:d=0.15",
            (spec.seconds - 0.15).max(0.0)
        ),
    ];
    args.extend(encoder(spec, 1));
    job.ffmpeg(args);
    job
}

/// The `aevalsrc` expression of four chords, each swelling over `period` seconds
pub fn chords(seed: u64, period: f64) -> String {
    let root = ROOTS[(seed % ROOTS.len() as u64) as usize];
    let progression = PROGRESSIONS[((seed >> 8) % PROGRESSIONS.len() as u64) as usize];
    let note = |semitones: i32| root * 2f64.powf(f64::from(semitones) / 12.0);
    let mut expr = "0".to_string();
    for (i, (step, minor)) in progression.iter().enumerate().rev() {
        let third = if *minor { 3 } else { 4 };
        let voices = [
            (note(step + 12), 1.0),
            (note(step + 12 + third), 0.8),
            (note(step + 19), 0.8),
            (note(*step), 0.9),
            (note(step + 24), 0.25),
        ];
        let chord: Vec<String> = voices
            .iter()
            .map(|(f, a)| format!("{a}*sin(2*PI*{f:.3}*t)"))
            .collect();
        expr = format!(
            "if(eq(mod(floor(t/{period}),4),{i}),{},{expr})",
            chord.join("+")
        );
    }
    format!("0.085*({expr})*pow(sin(PI*mod(t,{period})/{period}),0.6)")
}

fn music(spec: &Spec, out: &str) -> Job {
    let mut job = Job::new(out);
    let seed = spec.look;
    let period = [2.0, 2.5, 3.0][((seed >> 16) % 3) as usize];
    let seconds = spec.seconds.max(0.5);
    let rate = spec.sample_rate.clamp(8_000, 48_000);
    // One cycle of the progression is computed, then looped: each chord fades to silence at its
    // end, so the loop point is seamless
    let cycle = 4.0 * period;
    let fade_in = (seconds / 4.0).min(1.5);
    let fade_out = (seconds / 4.0).min(2.0);
    let mut args: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!(
            "aevalsrc=exprs='{}':s={rate}:d={:.3}",
            chords(seed, period),
            seconds.min(cycle)
        ),
        "-af".into(),
        format!(
            "aloop=loop=-1:size={},atrim=end={seconds:.3},afade=t=in:d={fade_in:.3},afade=t=out:st={:.3}:d={fade_out:.3}",
            (cycle * f64::from(rate)).round() as u64,
            seconds - fade_out
        ),
    ];
    args.extend(encoder(spec, spec.channels.clamp(1, 2)));
    job.ffmpeg(args);
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chords_are_deterministic_and_differ_by_seed() {
        assert_eq!(chords(1, 2.5), chords(1, 2.5));
        assert_ne!(chords(1, 2.5), chords(2, 2.5));
        assert!(chords(1, 2.5).contains("sin(2*PI*"));
    }
}
