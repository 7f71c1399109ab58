//! Keyframes: a still at the requested size, a two-colour gradient from the task's palette with a
//! faint grid, the stage id on top, the prompt wrapped in the middle and the provider at the
//! bottom.
//!
//! `ffmpeg -f lavfi -i gradients=s=WxH:c0=..:c1=..:seed=.. -vf drawgrid,drawtext(title),
//! drawtext(prompt),drawtext(footer),format=rgb24 -frames:v 1 -c:v png out.png` (mjpeg for
//! JPEG, libwebp for WebP)

use super::text::{self, Palette};
use super::{Job, MediaKind, Spec, bitexact};

/// Text files a picture draws, written into the work directory
pub const TITLE_FILE: &str = "title.txt";
/// The prompt, wrapped
pub const PROMPT_FILE: &str = "prompt.txt";
/// The provider and model line
pub const FOOTER_FILE: &str = "footer.txt";

/// The `gradients` source of a `w`x`h` picture in the task's palette (one frame)
pub fn gradient(spec: &Spec, w: u32, h: u32) -> String {
    let Palette { c0, c1, corner } = text::palette(spec.look);
    let (x0, y0, x1, y1) = match corner {
        0 => (0, 0, w, h),
        1 => (w, 0, 0, h),
        2 => (0, h, w, 0),
        _ => (w, h, 0, 0),
    };
    format!(
        "gradients=s={w}x{h}:c0={c0}:c1={c1}:x0={x0}:y0={y0}:x1={x1}:y1={y1}:nb_colors=2:speed=0.00001:r=1:d=1:seed={}",
        spec.look % 1_000_000_007
    )
}

/// A drawtext filter reading `file` (no expansion, so `%` and quotes in prompts are literal)
pub fn drawtext(file: &str, px: u32, bold: bool, x: &str, y: &str, extra: &str) -> String {
    format!(
        "drawtext={}:textfile={file}:expansion=none:fontsize={px}:fontcolor=white:{extra}:x={x}:y={y}",
        text::font(bold)
    )
}

/// The grid and the wrapped prompt over a `w`x`h` picture; writes the prompt file into `job`
pub fn backdrop(spec: &Spec, w: u32, h: u32, job: &mut Job) -> Vec<String> {
    let short = w.min(h);
    let mut filters = vec![format!(
        "drawgrid=w=iw/8:h=ih/8:t={}:c=white@0.10",
        (short / 300).max(1)
    )];
    let px = (short / 18).max(12);
    let width = text::chars_per_line(w * 84 / 100, px);
    let max_lines = ((f64::from(h) * 0.5) / (f64::from(px) * 1.3))
        .floor()
        .max(1.0) as usize;
    let lines = text::wrap(&spec.text, width, max_lines);
    if !lines.is_empty() {
        job.files.push((PROMPT_FILE, lines.join("\n")));
        filters.push(drawtext(
            PROMPT_FILE,
            px,
            false,
            "(w-text_w)/2",
            "(h-text_h)/2",
            &format!(
                "line_spacing={}:box=1:boxcolor=black@0.35:boxborderw={}",
                px / 4,
                px / 2
            ),
        ));
    }
    filters
}

/// The font size of the provider line at the bottom of a `w`x`h` frame
pub fn footer_px(w: u32, h: u32) -> u32 {
    (w.min(h) / 30).max(10)
}

/// The stage id on top and the provider line at the bottom of a `w`x`h` frame
pub fn captions(spec: &Spec, w: u32, h: u32, job: &mut Job) -> Vec<String> {
    let footer_px = footer_px(w, h);
    let mut filters = Vec::new();
    // The stage id shrinks to fit the width (a portrait frame is narrow), then is cut
    let title = text::clean(&spec.title, 48);
    let title_px = text::fit_bold(&title, w * 9 / 10, (w.min(h) / 10).max(14), 12);
    let title = text::clean(&title, text::chars_per_line(w * 9 / 10, title_px * 66 / 56));
    if !title.is_empty() {
        job.files.push((TITLE_FILE, title));
        filters.push(drawtext(
            TITLE_FILE,
            title_px,
            true,
            "(w-text_w)/2",
            "h*0.08",
            &format!("borderw={}:bordercolor=black@0.55", (title_px / 16).max(1)),
        ));
    }
    let footer = text::clean(&spec.footer, text::chars_per_line(w * 9 / 10, footer_px));
    if !footer.is_empty() {
        job.files.push((FOOTER_FILE, footer));
        filters.push(drawtext(
            FOOTER_FILE,
            footer_px,
            false,
            "(w-text_w)/2",
            &format!("h-text_h-{}", footer_px),
            "fontcolor=white@0.85:borderw=1:bordercolor=black@0.5",
        ));
    }
    filters
}

/// The job that renders `spec` as a still into `out`
pub fn job(spec: &Spec, out: &str) -> Job {
    let (w, h) = (spec.width.max(16), spec.height.max(16));
    let mut job = Job::new(out);
    let mut filters = backdrop(spec, w, h, &mut job);
    filters.extend(captions(spec, w, h, &mut job));
    let (pix, codec): (&str, &[&str]) = match spec.kind {
        MediaKind::Jpeg => ("yuvj420p", &["-c:v", "mjpeg", "-q:v", "3"]),
        MediaKind::Webp => ("yuv420p", &["-c:v", "libwebp", "-quality", "80"]),
        _ => ("rgb24", &["-c:v", "png"]),
    };
    filters.push(format!("format={pix}"));
    let mut args: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        gradient(spec, w, h),
        "-vf".into(),
        filters.join(","),
        "-frames:v".into(),
        "1".into(),
    ];
    args.extend(codec.iter().map(|s| (*s).to_string()));
    args.extend(bitexact());
    args.extend(["-f".into(), "image2".into(), "-update".into(), "1".into()]);
    job.ffmpeg(args);
    job
}
