//! The creator's look and hook, in words a generation model takes.
//!
//! Every image and video prompt carries the visual fingerprint as one plain clause after the
//! shot's own words (`Look: teal-orange grade; palette #1b2a3c, #e07a2f; 35mm anamorphic lens;
//! lighting low-key, practicals.`): every model we route to reads a text prompt, and models weigh
//! what comes first most, so the shot's content leads and the look follows. Models whose API has
//! a negative prompt (Veo, Kling, Pika on fal) also get [`negative_prompt`]: what a look drifts to
//! when a model falls back on its own defaults. It is never folded into the prompt text of the
//! others, because "no flat lighting" in a positive prompt tends to summon flat lighting.
//!
//! The format's `hook_style` shapes the first shot only: its keyframe (the first frame the
//! audience sees) and the motion of its first part.

use crate::memory::graph::VisualFingerprint;

/// The fingerprint as a prompt clause, `None` when it says nothing
pub fn look_clause(fp: &VisualFingerprint) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(grade) = non_blank(fp.grade.as_deref()) {
        parts.push(format!("{grade} grade"));
    }
    if !fp.palette.is_empty() {
        parts.push(format!("palette {}", fp.palette.join(", ")));
    }
    if let Some(lens) = non_blank(fp.lens.as_deref()) {
        // "35mm anamorphic" reads as a lens; "35mm anamorphic lens" is not doubled.
        if lens.to_lowercase().contains("lens") {
            parts.push(lens.to_owned());
        } else {
            parts.push(format!("{lens} lens"));
        }
    }
    if let Some(lighting) = non_blank(fp.lighting.as_deref()) {
        parts.push(format!("lighting {lighting}"));
    }
    (!parts.is_empty()).then(|| format!("Look: {}.", parts.join("; ")))
}

/// What the look must not drift to, for models with a negative prompt; `None` when the
/// fingerprint says nothing.
///
/// Always: a grade or palette that wanders from shot to shot, and burnt-in text or watermarks
/// (the assembler adds captions and the badge itself). Then the opposite of the lighting and
/// grade where the fingerprint names a look with a well-known opposite, because that opposite is
/// what models default to (evenly lit, full colour).
pub fn negative_prompt(fp: &VisualFingerprint) -> Option<String> {
    look_clause(fp)?;
    let mut parts: Vec<&str> = Vec::new();
    if !fp.palette.is_empty() || non_blank(fp.grade.as_deref()).is_some() {
        parts.push("off-palette colour casts");
        parts.push("inconsistent colour grade");
    }
    let lighting = fp.lighting.as_deref().unwrap_or_default().to_lowercase();
    if lighting.contains("low-key") || lighting.contains("low key") {
        parts.push("flat even lighting");
        parts.push("overexposed highlights");
    } else if lighting.contains("high-key") || lighting.contains("high key") {
        parts.push("murky shadows");
        parts.push("underexposed frame");
    }
    let grade = fp.grade.as_deref().unwrap_or_default().to_lowercase();
    if ["black and white", "black & white", "monochrome", "b&w"]
        .iter()
        .any(|g| grade.contains(g))
    {
        parts.push("colour");
    }
    parts.push("watermark");
    parts.push("burnt-in text");
    Some(parts.join(", "))
}

/// The hook as a prompt clause for the first shot, `None` without one
pub fn hook_clause(hook_style: Option<&str>) -> Option<String> {
    let hook = non_blank(hook_style)?;
    let hook = hook.trim_end_matches('.');
    Some(format!("Opening hook: {hook}."))
}

fn non_blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp() -> VisualFingerprint {
        VisualFingerprint {
            palette: vec!["#1b2a3c".into(), "#e07a2f".into()],
            grade: Some("teal-orange".into()),
            lens: Some("35mm anamorphic".into()),
            lighting: Some("low-key, practicals".into()),
        }
    }

    #[test]
    fn the_fingerprint_reads_as_one_clause() {
        assert_eq!(
            look_clause(&fp()).as_deref(),
            Some(
                "Look: teal-orange grade; palette #1b2a3c, #e07a2f; 35mm anamorphic lens; \
                 lighting low-key, practicals."
            )
        );
        assert_eq!(look_clause(&VisualFingerprint::default()), None);
        assert_eq!(negative_prompt(&VisualFingerprint::default()), None);
    }

    #[test]
    fn the_negative_prompt_names_the_opposite_of_the_lighting() {
        let negative = negative_prompt(&fp()).unwrap_or_default();
        assert!(negative.contains("flat even lighting"), "{negative}");
        let bright = VisualFingerprint {
            lighting: Some("high-key daylight".into()),
            ..VisualFingerprint::default()
        };
        let negative = negative_prompt(&bright).unwrap_or_default();
        assert!(negative.contains("murky shadows"), "{negative}");
        assert!(!negative.contains("colour grade"), "{negative}");
    }

    #[test]
    fn a_hook_is_one_sentence() {
        assert_eq!(
            hook_clause(Some(" cold open on a question. ")).as_deref(),
            Some("Opening hook: cold open on a question.")
        );
        assert_eq!(hook_clause(Some("  ")), None);
    }
}
