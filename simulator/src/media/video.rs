//! Motion clips: the keyframe's look (gradient, grid, prompt) drawn once at a larger size, then
//! a slow push-in (`zoompan`, 1.0 to 1.15) down to the output size, with the stage id, the
//! provider line and a running timecode on top; H.264 yuv420p, `+faststart`.
//!
//! `ffmpeg -f lavfi -i gradients=s=2Wx2H:.. -filter_complex "[0]drawgrid,drawtext(prompt),
//! format=yuv420p,loop=loop=-1:size=1,zoompan=z='1+0.15*on/(N-1)':..:d=1:s=WxH:fps=F,
//! drawtext(title),drawtext(footer),drawtext(timecode)[v]" -map [v] -frames:v N -c:v libx264
//! -preset veryfast -crf 28 -pix_fmt yuv420p -g 2F -threads 2 -movflags +faststart out.mp4`

use super::image;
use super::text;
use super::{Job, Spec, bitexact};

/// How far the push-in zooms over the clip
const ZOOM: f64 = 0.15;

/// An even number of at least 2
fn even(n: f64) -> u32 {
    let n = n.round().max(2.0) as u32;
    n + n % 2
}

/// The number of frames of `spec`
pub fn frames(spec: &Spec) -> u32 {
    ((spec.seconds * f64::from(spec.fps)).round() as u32).max(1)
}

/// The job that renders `spec` as an MP4 clip into `out`
pub fn job(spec: &Spec, out: &str) -> Job {
    let (w, h) = (even(f64::from(spec.width)), even(f64::from(spec.height)));
    let fps = spec.fps.clamp(1, 120);
    let n = frames(spec);
    // The picture is drawn larger than the output so that the push-in stays smooth
    let factor = if w.max(h) <= 960 { 2.0 } else { 1.25 };
    let (bw, bh) = (even(f64::from(w) * factor), even(f64::from(h) * factor));
    let mut job = Job::new(out);
    let mut chain = image::backdrop(spec, bw, bh, &mut job);
    chain.push("format=yuv420p".into());
    chain.push("loop=loop=-1:size=1".into());
    chain.push(format!(
        "zoompan=z='1+{ZOOM}*on/{}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s={w}x{h}:fps={fps}",
        n.saturating_sub(1).max(1)
    ));
    chain.extend(image::captions(spec, w, h, &mut job));
    // The running time, centred above the provider line
    let tc_px = (w.min(h) / 24).max(10);
    chain.push(format!(
        "drawtext={}:text='%{{pts\\:hms}}':fontsize={tc_px}:fontcolor=white@0.8:borderw=1:bordercolor=black@0.5:x=(w-text_w)/2:y=h-text_h-{}",
        text::font(false),
        image::footer_px(w, h) * 2 + tc_px / 2
    ));
    let graph = format!("[0]{}[v]", chain.join(","));
    let mut args: Vec<String> = vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        image::gradient(spec, bw, bh),
        "-filter_complex".into(),
        graph,
        "-map".into(),
        "[v]".into(),
        "-frames:v".into(),
        n.to_string(),
        "-r".into(),
        fps.to_string(),
    ];
    let gop = (fps * 2).to_string();
    args.extend(
        [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "28",
            "-pix_fmt",
            "yuv420p",
            "-g",
            gop.as_str(),
            "-threads",
            "2",
            "-movflags",
            "+faststart",
        ]
        .map(String::from),
    );
    args.extend(bitexact());
    args.extend(["-f".into(), "mp4".into()]);
    job.ffmpeg(args);
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_sizes() {
        assert_eq!(even(641.0), 642);
        assert_eq!(even(360.0), 360);
        assert_eq!(even(0.0), 2);
    }
}
