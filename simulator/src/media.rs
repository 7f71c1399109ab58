//! Real, tiny output files: a PNG, a baseline JPEG, an MP4 (ftyp/moov/mdat), an MP3 and a WAV.
//!
//! Every generator is deterministic in its `tag`, so different tasks yield different bytes
//! (the orchestrator's copies can be told apart) and the same task always yields the same bytes.

/// What kind of output a task produces
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// An MP4 video
    Video,
    /// A PNG image
    Png,
    /// A JPEG image
    Jpeg,
    /// An MP3 audio file
    Mp3,
    /// A WAV audio file
    Wav,
}

impl MediaKind {
    /// Returns the Content-Type the file is served with
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Video => "video/mp4",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Mp3 => "audio/mpeg",
            Self::Wav => "audio/wav",
        }
    }

    /// Returns the file extension, without the dot
    pub fn ext(self) -> &'static str {
        match self {
            Self::Video => "mp4",
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Mp3 => "mp3",
            Self::Wav => "wav",
        }
    }

    /// Renders the file for `tag`, `seconds` long where that applies
    pub fn render(self, tag: &str, seconds: f64) -> Vec<u8> {
        match self {
            Self::Video => mp4(tag, seconds),
            Self::Png => png(tag),
            Self::Jpeg => jpeg(tag),
            Self::Mp3 => mp3(seconds),
            Self::Wav => wav(seconds),
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// An 8x8 RGB PNG of one colour derived from `tag` (zlib stored block, no compression)
pub fn png(tag: &str) -> Vec<u8> {
    const SIDE: u32 = 8;
    let h = crate::util::hash64(&[tag.as_bytes()]).to_le_bytes();
    let mut raw = Vec::new();
    let mut row = vec![0u8]; // filter: none
    for _ in 0..SIDE {
        row.extend_from_slice(&h[..3]);
    }
    for _ in 0..SIDE {
        raw.extend_from_slice(&row);
    }
    let len = u16::try_from(raw.len()).unwrap_or(0);
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(&raw);
    z.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit, truecolour, deflate, no filter, no interlace

    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"tEXt", format!("Comment\0{tag}").as_bytes());
    png_chunk(&mut out, b"IDAT", &z);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// An 8x8 greyscale baseline JPEG: one block whose only coefficient is DC 0 (mid grey).
///
/// The Huffman tables hold one symbol each (DC category 0, AC end-of-block), so the scan is the
/// two bits `0 0` padded with ones. The `tag` goes into a COM segment.
pub fn jpeg(tag: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xd8];
    // APP0 JFIF 1.1, no density units, 1x1, no thumbnail
    out.extend_from_slice(&[
        0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ]);
    let com = tag.as_bytes();
    let com_len = u16::try_from(com.len().min(60_000) + 2).unwrap_or(2);
    out.extend_from_slice(&[0xff, 0xfe]);
    out.extend_from_slice(&com_len.to_be_bytes());
    out.extend_from_slice(&com[..usize::from(com_len - 2)]);
    // DQT: table 0, 8-bit, all ones
    out.extend_from_slice(&[0xff, 0xdb, 0x00, 0x43, 0x00]);
    out.extend_from_slice(&[1u8; 64]);
    // SOF0: 8-bit, 8x8, one component (id 1, 1x1 sampling, table 0)
    out.extend_from_slice(&[
        0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
    ]);
    // DHT: DC table 0 and AC table 0, each one code of length 1 for symbol 0x00
    for class in [0x00u8, 0x10] {
        out.extend_from_slice(&[0xff, 0xc4, 0x00, 0x14, class, 0x01]);
        out.extend_from_slice(&[0u8; 15]);
        out.push(0x00);
    }
    // SOS: one component, tables 0/0, spectral 0..63
    out.extend_from_slice(&[0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);
    out.push(0x3f); // bits 00 (DC diff 0, EOB) then padding ones
    out.extend_from_slice(&[0xff, 0xd9]);
    out
}

fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend_from_slice(&u32::try_from(payload.len() + 8).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
    out
}

/// A minimal MP4: `ftyp`, `moov` holding an `mvhd` of the given duration, and an `mdat`
pub fn mp4(tag: &str, seconds: f64) -> Vec<u8> {
    let mut ftyp = Vec::new();
    ftyp.extend_from_slice(b"isom");
    ftyp.extend_from_slice(&0x200u32.to_be_bytes());
    ftyp.extend_from_slice(b"isomiso2mp41");

    let duration_ms = (seconds.max(0.0) * 1000.0).round().min(f64::from(u32::MAX)) as u32;
    let mut mvhd = vec![0u8; 4]; // version 0, flags 0
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // creation time
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // modification time
    mvhd.extend_from_slice(&1000u32.to_be_bytes()); // timescale
    mvhd.extend_from_slice(&duration_ms.to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0u8; 10]);
    for m in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&m.to_be_bytes()); // identity matrix
    }
    mvhd.extend_from_slice(&[0u8; 24]); // pre_defined
    mvhd.extend_from_slice(&2u32.to_be_bytes()); // next_track_ID

    let mut out = mp4_box(b"ftyp", &ftyp);
    out.extend(mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd)));
    let mut payload = format!("creatorstudio-sim:{tag}").into_bytes();
    payload.resize(payload.len().max(256), 0);
    out.extend(mp4_box(b"mdat", &payload));
    out
}

/// A silent MPEG-1 Layer III file (128 kbit/s, 44.1 kHz, mono), at most 3 s long
pub fn mp3(seconds: f64) -> Vec<u8> {
    const FRAME_LEN: usize = 417; // 144 * 128000 / 44100, no padding
    let frames = ((seconds.clamp(0.1, 3.0) * 44_100.0 / 1152.0).ceil()) as usize;
    let mut out = Vec::with_capacity(frames * FRAME_LEN);
    for _ in 0..frames {
        out.extend_from_slice(&[0xff, 0xfb, 0x90, 0xc4]);
        out.resize(out.len() + FRAME_LEN - 4, 0);
    }
    out
}

/// A silent 16-bit mono PCM WAV at 16 kHz, at most 3 s long
pub fn wav(seconds: f64) -> Vec<u8> {
    const RATE: u32 = 16_000;
    let samples = (seconds.clamp(0.1, 3.0) * f64::from(RATE)) as u32;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.resize(44 + data_len as usize, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_known_value() {
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn files_have_their_magic() {
        assert_eq!(&png("a")[..8], b"\x89PNG\r\n\x1a\n");
        assert_ne!(png("a"), png("b"));
        assert_eq!(&jpeg("a")[..2], &[0xff, 0xd8]);
        let v = mp4("a", 5.0);
        assert_eq!(&v[4..8], b"ftyp");
        assert_eq!(&mp3(1.0)[..2], &[0xff, 0xfb]);
        assert_eq!(&wav(1.0)[..4], b"RIFF");
    }
}
