//! Which models take a cast member's reference images, and how many: the one table routing
//! (continuity) and the adapters (request bodies) agree on.
//!
//! A look locked in the memory graph may carry reference images (`creators/{creator}/looks/...`
//! in R2). The shell signs them into URLs ([`super::SubmitRequest::reference_images`]) for every
//! keyframe and motion stage of a shot that shows the cast member; an adapter puts them in its
//! request only where the provider's API has a field for them *alongside what the stage already
//! sends*, and [`reference_limit`] says how many it puts. Ra's continuity score reads the same
//! number, so a model is credited for references exactly when its request carries them
//! (`tests/cast_references.rs` builds every registry model's request to hold the two together).
//!
//! | provider, model | stage | references | source |
//! |---|---|---|---|
//! | BFL `flux-kontext-pro` | keyframe | `input_image`, then `input_image_2..4` (URL or base64), 4 | <https://docs.bfl.ml/api-reference/models/edit-or-create-an-image-with-flux-kontext-pro> (`input_image`: "Base64 encoded image or URL to use with Kontext"; `input_image_2`..`_4`: "Experimental Multiref"; `aspect_ratio` rather than width and height) |
//! | BFL `flux-pro-1.1` | keyframe | none: its `image_prompt` is one base64 image for Redux remixing, not a character reference | <https://docs.bfl.ai/flux_models/flux_1_1_pro> |
//! | Kling `kling-v1-6` | motion | `multi-image2video`'s `image_list` (URLs, up to 4): the keyframe first, then up to 3 references | Kling API "Multi-Image to Video" (`POST /v1/videos/multi-image2video`, `model_name: kling-v1-6`, `image_list: [{image}]`); fal's hosting of the same model: <https://fal.ai/models/fal-ai/kling-video/v1.6/standard/elements/llms.txt> ("Supports up to 4 images") |
//! | Kling `kling-v2-1` | motion | none: `image2video` takes the first frame (`image`) and an end frame (`image_tail`) only | Kling API "Image to Video" |
//! | Veo `veo-3.0-generate-001` | motion | none: `referenceImages` (asset) is a Veo 2 / Veo 3.1 feature and cannot be combined with a first frame (`image`) | <https://googleapis.github.io/java-genai/javadoc/google-genai/com.google.genai.types/-generate-videos-config/reference-images.html> ("The image, video, or last_frame field are not supported") |
//! | Runway `gen4_turbo` | motion | none: `image_to_video` takes `promptImage` (first or last frame); `referenceImages` belongs to `text_to_image` | runwayml/sdk-python `src/runwayml/types/image_to_video_create_params.py`, `src/runwayml/types/text_to_image_create_params.py` |
//! | Luma `ray-2` | motion | none: `keyframes.frame0`/`frame1` only; `character_ref` belongs to Photon images | <https://docs.lumalabs.ai/docs/video-generation> |
//! | Seedance `seedance-1-0-pro` | motion | none: `role: reference_image` is for the lite i2v model and excludes a first frame | BytePlus ModelArk "Video generation" |
//! | Hailuo `MiniMax-Hailuo-02` | motion | none: `subject_reference` is for `S2V-01` only, without `first_frame_image` | MiniMax "Video Generation" API |
//! | fal Pika 2.2, Replicate Wan 2.2, Sora 2 | motion | none: one start image each (`image_url`, `image`, `input_reference`) | fal `fal-ai/pika/v2.2/image-to-video`; `wan-video/wan-2.2-i2v-fast`; OpenAI videos API |
//!
//! So today Ra can keep a locked look with references on the keyframe (FLUX Kontext) and, for
//! near-equal quality, on the motion (Kling 1.6); every other model still starts from a keyframe
//! that was made with the references, which [`continuity_score`] credits half. Both models are
//! routed to only for stages that have references ([`needs_references`]).

use crate::plan::StageKind;
use crate::providers::ProviderKind;

/// The most reference images one BFL Kontext request takes (`input_image` .. `input_image_4`)
pub const KONTEXT_MAX_REFERENCES: usize = 4;
/// The most images of Kling's `multi-image2video` `image_list`; the keyframe takes one of them
pub const KLING_MULTI_IMAGE_MAX: usize = 4;

/// Whether a BFL model is a Kontext model (reference-driven generation and editing)
pub fn is_kontext(provider_model: &str) -> bool {
    provider_model.starts_with("flux-kontext")
}

/// Whether a Kling model renders from a list of images (`multi-image2video`)
pub fn is_kling_multi_image(provider_model: &str) -> bool {
    provider_model == "kling-v1-6"
}

/// How many reference images a model's request carries for a stage of `kind` (0: its API has
/// no field for them beside what the stage sends; see the table above)
pub fn reference_limit(provider: ProviderKind, provider_model: &str, kind: StageKind) -> usize {
    match (provider, kind) {
        (ProviderKind::Bfl, StageKind::Keyframe) if is_kontext(provider_model) => {
            KONTEXT_MAX_REFERENCES
        }
        (ProviderKind::Kling, StageKind::Motion) if is_kling_multi_image(provider_model) => {
            KLING_MULTI_IMAGE_MAX - 1
        }
        (
            ProviderKind::Veo
            | ProviderKind::Sora
            | ProviderKind::Kling
            | ProviderKind::Runway
            | ProviderKind::FalPika
            | ProviderKind::Luma
            | ProviderKind::Seedance
            | ProviderKind::Hailuo
            | ProviderKind::Bfl
            | ProviderKind::ElevenLabs
            | ProviderKind::MinimaxMusic
            | ProviderKind::Replicate
            | ProviderKind::Assembler
            | ProviderKind::Shotstack,
            _,
        ) => 0,
    }
}

/// Whether a model is in the registry only for stages with references, so Ra leaves it out of
/// the others: Kling 1.6 for its multi-image endpoint (without references it would be an older
/// Kling rendering plain image-to-video, which Kling 2.1 does better), and FLUX Kontext, whose
/// place is the keyframe of a cast member with a locked look (a keyframe without references
/// stays on FLUX 1.1 \[pro\] and its fallbacks as before)
pub fn needs_references(provider: ProviderKind, provider_model: &str, kind: StageKind) -> bool {
    reference_limit(provider, provider_model, kind) > 0
}

/// The references a request carries: the first [`reference_limit`] of them
pub fn carried<'a>(
    provider: ProviderKind,
    provider_model: &str,
    kind: StageKind,
    urls: &'a [String],
) -> &'a [String] {
    let n = reference_limit(provider, provider_model, kind).min(urls.len());
    urls.get(..n).unwrap_or(&[])
}

/// Continuity credit of a model for a stage that has `references` reference images:
///
/// - 1 when the stage has none (nothing to keep), or the model's request carries them;
/// - 0.5 for a motion stage whose model cannot take them: it still starts from the keyframe,
///   which was made with them (when the keyframe model took them);
/// - 0 for a keyframe model that cannot take them: the look rests on the prompt alone.
pub fn continuity_score(
    provider: ProviderKind,
    provider_model: &str,
    kind: StageKind,
    references: usize,
) -> f64 {
    if references == 0 || reference_limit(provider, provider_model, kind) > 0 {
        return 1.0;
    }
    match kind {
        StageKind::Motion => 0.5,
        StageKind::Keyframe
        | StageKind::Frame
        | StageKind::Dialogue
        | StageKind::Voiceover
        | StageKind::Score
        | StageKind::Assembly => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kontext_keyframes_and_kling_multi_image_motion_take_references() {
        assert_eq!(
            reference_limit(ProviderKind::Bfl, "flux-kontext-pro", StageKind::Keyframe),
            4
        );
        assert_eq!(
            reference_limit(ProviderKind::Bfl, "flux-pro-1.1", StageKind::Keyframe),
            0
        );
        assert_eq!(
            reference_limit(ProviderKind::Kling, "kling-v1-6", StageKind::Motion),
            3
        );
        assert_eq!(
            reference_limit(ProviderKind::Kling, "kling-v2-1", StageKind::Motion),
            0
        );
        assert_eq!(
            reference_limit(ProviderKind::Veo, "veo-3.0-generate-001", StageKind::Motion),
            0
        );
    }

    #[test]
    fn continuity_credits_what_is_carried() {
        let refs = ["a".to_owned(), "b".to_owned()];
        assert_eq!(
            carried(ProviderKind::Kling, "kling-v1-6", StageKind::Motion, &refs).len(),
            2
        );
        assert!(carried(ProviderKind::Veo, "veo-3", StageKind::Motion, &refs).is_empty());
        let score = |p, m: &str, k| continuity_score(p, m, k, refs.len());
        assert_eq!(
            score(ProviderKind::Bfl, "flux-kontext-pro", StageKind::Keyframe),
            1.0
        );
        assert_eq!(
            score(ProviderKind::Bfl, "flux-pro-1.1", StageKind::Keyframe),
            0.0
        );
        assert_eq!(
            score(ProviderKind::Veo, "veo-3.0-generate-001", StageKind::Motion),
            0.5
        );
        assert_eq!(
            continuity_score(ProviderKind::Bfl, "flux-pro-1.1", StageKind::Keyframe, 0),
            1.0
        );
    }
}
