//! `POST /v1/memory/voices/{name}/samples`: audio samples of a voice, cloned at the provider
//! (an instant voice clone, see `providers::elevenlabs_voices`) and kept as `voices.{name}`.
//!
//! The body is one raw audio file (`Content-Type: audio/...` or `application/octet-stream`), or
//! `multipart/form-data` with one or more file parts (any field name; ElevenLabs' own form uses
//! `files`). Every sample must *be* audio by its magic numbers ([`sniff_audio`]): WAV, MP3, OGG,
//! FLAC, MP4/M4A or WebM; the whole body is capped at [`MAX_SAMPLES_BYTES`] while it is read,
//! and at most [`MAX_SAMPLES`] samples are sent. Anything else is a 400 naming the part
//! (`samples[1]`), before the provider is called.

use crate::memory::error::MemoryError;
use crate::memory::json::ident;
use crate::providers::elevenlabs_voices::CloneSample;

/// The largest body of samples, bytes (ElevenLabs takes files of up to 10 MB for instant
/// clones; a minute of 16-bit mono WAV at 44.1 kHz is about 5 MB)
pub const MAX_SAMPLES_BYTES: usize = 10 * 1024 * 1024;
/// The most samples one clone is made from
pub const MAX_SAMPLES: usize = 25;

/// The answer to a clone: the voice now kept as `voices.{name}`
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct VoiceCloned {
    /// The voice name (a cast id or a narration voice name)
    pub name: String,
    /// The provider's id of the new voice, now in your Memory Graph
    pub voice_id: String,
    /// Whether the provider wants the voice verified before it speaks
    pub requires_verification: bool,
    /// How many samples it was cloned from
    pub samples: u32,
}

/// An audio container we accept as a voice sample
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioType {
    /// `RIFF` .. `WAVE`
    Wav,
    /// `ID3`, or an MPEG frame sync `FF Ex`/`FF Fx`
    Mp3,
    /// `OggS`
    Ogg,
    /// `fLaC`
    Flac,
    /// `ftyp` at byte 4 (M4A, MP4)
    Mp4,
    /// EBML `1A 45 DF A3`
    Webm,
}

impl AudioType {
    /// Its MIME type
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Wav => "audio/wav",
            Self::Mp3 => "audio/mpeg",
            Self::Ogg => "audio/ogg",
            Self::Flac => "audio/flac",
            Self::Mp4 => "audio/mp4",
            Self::Webm => "audio/webm",
        }
    }

    /// Its file extension
    pub fn extension(self) -> &'static str {
        match self {
            Self::Wav => "wav",
            Self::Mp3 => "mp3",
            Self::Ogg => "ogg",
            Self::Flac => "flac",
            Self::Mp4 => "m4a",
            Self::Webm => "webm",
        }
    }
}

/// The audio type the bytes are, by their magic numbers; `None` for anything else
pub fn sniff_audio(b: &[u8]) -> Option<AudioType> {
    if b.len() >= 12 && b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE") {
        return Some(AudioType::Wav);
    }
    if b.starts_with(b"ID3") {
        return Some(AudioType::Mp3);
    }
    if let [0xFF, second, ..] = b
        && second & 0xE0 == 0xE0
    {
        return Some(AudioType::Mp3);
    }
    if b.starts_with(b"OggS") {
        return Some(AudioType::Ogg);
    }
    if b.starts_with(b"fLaC") {
        return Some(AudioType::Flac);
    }
    if b.get(4..8) == Some(b"ftyp") {
        return Some(AudioType::Mp4);
    }
    if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(AudioType::Webm);
    }
    None
}

/// The voice name from the path: an identifier, as voice rows are keyed
///
/// # Errors
///
/// [`MemoryError::Invalid`] naming `name`.
pub fn voice_name(name: &str) -> Result<String, MemoryError> {
    ident(name, "name")
}

/// The samples of an upload body, each checked to be audio
///
/// # Errors
///
/// [`MemoryError::Invalid`] naming `body`, `Content-Type` or the offending `samples[i]`.
pub fn parse_samples(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<CloneSample>, MemoryError> {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let parts: Vec<Part<'_>> = if mime == "multipart/form-data" {
        let boundary = content_type
            .and_then(boundary_of)
            .ok_or_else(|| MemoryError::invalid("Content-Type", "multipart without a boundary"))?;
        multipart_files(body, &boundary)?
    } else if mime.is_empty() || mime == "application/octet-stream" || mime.starts_with("audio/") {
        vec![(None, body)]
    } else {
        return Err(MemoryError::invalid(
            "Content-Type",
            "send an audio file (audio/wav, audio/mpeg, ...) or multipart/form-data with audio \
             files",
        ));
    };
    if parts.is_empty() || parts.iter().all(|(_, b)| b.is_empty()) {
        return Err(MemoryError::invalid("body", "no audio sample in the body"));
    }
    if parts.len() > MAX_SAMPLES {
        return Err(MemoryError::invalid(
            "body",
            format!("at most {MAX_SAMPLES} samples"),
        ));
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(i, (file_name, bytes))| {
            let audio = sniff_audio(bytes).ok_or_else(|| {
                MemoryError::invalid(
                    format!("samples[{i}]"),
                    "not audio: WAV, MP3, OGG, FLAC, M4A or WebM expected by its first bytes",
                )
            })?;
            Ok(CloneSample {
                file_name: file_name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| format!("sample-{}.{}", i + 1, audio.extension())),
                content_type: audio.content_type().to_owned(),
                bytes: bytes.to_vec(),
            })
        })
        .collect()
}

/// `boundary=` of a multipart content type, unquoted
fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary"))
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty() && b.len() <= 70)
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay.get(i..i + needle.len()) == Some(needle))
}

/// One part of an upload: its file name, when it has one, and its bytes
type Part<'a> = (Option<String>, &'a [u8]);

/// The file parts of a multipart body (RFC 7578): parts with a `filename`, or with any
/// non-text content; form fields without a file are skipped
fn multipart_files<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MemoryError> {
    let malformed = || MemoryError::invalid("body", "malformed multipart body");
    let delim = format!("--{boundary}");
    let mut at = find(body, delim.as_bytes(), 0).ok_or_else(malformed)?;
    let mut out = Vec::new();
    loop {
        let after = at + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            return Ok(out);
        }
        let headers_start = find(body, b"\r\n", after).ok_or_else(malformed)? + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start).ok_or_else(malformed)?;
        let headers = String::from_utf8_lossy(body.get(headers_start..headers_end).unwrap_or(&[]))
            .to_ascii_lowercase();
        let content_start = headers_end + 4;
        let next =
            find(body, format!("\r\n{delim}").as_bytes(), content_start).ok_or_else(malformed)?;
        let content = body.get(content_start..next).ok_or_else(malformed)?;
        let file_name = headers
            .split(';')
            .find_map(|p| p.trim().strip_prefix("filename="))
            .map(|f| {
                f.trim_matches(|c| c == '"' || c == '\r' || c == '\n')
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_owned()
            });
        let is_file = file_name.is_some()
            || headers
                .lines()
                .any(|l| l.starts_with("content-type:") && !l.contains("text/plain"));
        if is_file {
            out.push((file_name, content));
        }
        at = next + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAV: &[u8] = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0";

    #[test]
    fn raw_and_multipart_bodies_are_read_and_checked() {
        let raw = parse_samples(Some("audio/wav"), WAV).unwrap_or_default();
        assert_eq!(raw.len(), 1);
        assert_eq!(raw[0].content_type, "audio/wav");
        let mut body = Vec::new();
        body.extend_from_slice(
            b"--XyZ\r\ncontent-disposition: form-data; name=\"note\"\r\n\r\nhi\r\n",
        );
        body.extend_from_slice(b"--XyZ\r\ncontent-disposition: form-data; name=\"files\"; filename=\"a.wav\"\r\ncontent-type: audio/wav\r\n\r\n");
        body.extend_from_slice(WAV);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let parts =
            parse_samples(Some("multipart/form-data; boundary=XyZ"), &body).unwrap_or_default();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].file_name, "a.wav");
        assert_eq!(parts[0].bytes, WAV);
        let err = parse_samples(Some("audio/wav"), b"<html>").unwrap_err();
        assert!(matches!(err, MemoryError::Invalid { field, .. } if field == "samples[0]"));
        let err = parse_samples(Some("text/plain"), WAV).unwrap_err();
        assert!(matches!(err, MemoryError::Invalid { field, .. } if field == "Content-Type"));
    }
}
