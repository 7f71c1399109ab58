//! Registry version 6: Sora 2 retired from OpenAI's shutdown, a newer stack, and two models in
//! service for every capability a provider renders; versions 1..=5 as they were.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use studio::brief::{AspectRatio, OutcomeTarget, ShotKind};
use studio::ids::{Attempt, CreatorId, JobId, ShotId, StageId};
use studio::memory::MemoryContext;
use studio::plan::{Capability, StageKind};
use studio::providers::config::default_base_url;
use studio::providers::references::needs_references;
use studio::providers::{InlineImage, ProviderConfig, Secret, SubmitRequest, adapter};
use studio::routing::{ModelSpec, Registry, RoutingContext, StageRequest, route_stage};
use studio::time::Timestamp;

/// 2026-09-24T00:00:00Z, when OpenAI shut the Sora 2 models and the Videos API down
const SORA_SHUTDOWN: Timestamp = Timestamp(1_790_208_000_000);
/// 2026-11-15T00:00:00Z, "now" for these tests
const NOW: Timestamp = Timestamp(1_794_700_800_000);

/// The models version 6 adds to version 5
const ADDED: [&str; 8] = [
    "veo-3.1",
    "kling-2.6",
    "runway-gen4.5",
    "seedance-1-pro-fast",
    "flux-1.1-pro-replicate",
    "eleven-flash-v2.5",
    "minimax-music-2.6",
    "eleven-music-v1",
];

fn v(version: u32) -> Registry {
    Registry::builtin_version(version).unwrap()
}

fn in_service(model: &ModelSpec, now: Timestamp) -> bool {
    model.retired_from.is_none_or(|from| now < from)
}

/// The stage kind a capability's model renders
fn kind_of(capability: Capability) -> StageKind {
    match capability {
        Capability::Image => StageKind::Keyframe,
        Capability::Video => StageKind::Motion,
        Capability::Speech => StageKind::Voiceover,
        Capability::Music => StageKind::Score,
        Capability::Assembly => StageKind::Assembly,
        Capability::Frame => StageKind::Frame,
    }
}

/// Whether any creator's stage without reference images can be routed to the model now: in
/// service, behind no flag, and not a model kept for stages with references
fn open_to_every_stage(model: &ModelSpec) -> bool {
    in_service(model, NOW)
        && model.flag.is_none()
        && !needs_references(
            model.provider,
            &model.provider_model,
            kind_of(model.capability),
        )
}

#[test]
fn the_latest_version_is_6_and_builtin_is_it() {
    assert_eq!(Registry::LATEST_VERSION, 6);
    assert_eq!(Registry::builtin().version, 6);
    assert_eq!(
        Registry::builtin_version(Registry::LATEST_VERSION),
        Some(Registry::builtin())
    );
    assert_eq!(Registry::builtin_version(7), None);
}

#[test]
fn sora_2_is_retired_from_openais_shutdown_in_v6_only() {
    let v6 = v(6);
    let sora = v6
        .models
        .iter()
        .find(|m| m.id.as_str() == "sora-2")
        .expect("sora-2 stays listed, so decisions recorded with it still read");
    assert_eq!(sora.retired_from, Some(SORA_SHUTDOWN));
    assert!(in_service(sora, Timestamp(SORA_SHUTDOWN.0 - 1)));
    assert!(!in_service(sora, SORA_SHUTDOWN));
    assert!(!in_service(sora, NOW));
    // The only model v6 retires.
    let retired: Vec<&str> = v6
        .models
        .iter()
        .filter(|m| m.retired_from.is_some())
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(retired, ["sora-2"]);
}

#[test]
fn versions_1_to_5_retire_nothing_and_serialize_as_before() {
    for version in 1..=5 {
        let r = v(version);
        assert_eq!(r.version, version);
        assert!(
            r.models.iter().all(|m| m.retired_from.is_none()),
            "v{version}"
        );
        // `retired_from` is left out when unset, so a stored v1..=5 registry reads the same.
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("retired_from"), "v{version}");
        for id in ADDED {
            assert!(
                r.get(&studio::ids::ModelId(id.into())).is_none(),
                "v{version} {id}"
            );
        }
    }
    assert_eq!(v(5).models.len(), 17);
}

#[test]
fn v6_is_v5_with_sora_retired_and_the_new_models_appended() {
    let v5 = v(5);
    let v6 = v(6);
    let (kept, added) = v6.models.split_at(v5.models.len());
    for (old, new) in v5.models.iter().zip(kept) {
        let mut unretired = new.clone();
        unretired.retired_from = None;
        assert_eq!(&unretired, old, "{}", old.id);
    }
    let ids: Vec<&str> = added.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ADDED);
    assert!(
        added
            .iter()
            .all(|m| m.retired_from.is_none() && m.flag.is_none())
    );
    // Ids stay unique across the registry.
    let mut all: Vec<&str> = v6.models.iter().map(|m| m.id.as_str()).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), v6.models.len());
}

#[test]
fn every_capability_a_provider_renders_has_two_models_in_service_now() {
    let v6 = v(6);
    let mut open: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for m in v6.models.iter().filter(|m| open_to_every_stage(m)) {
        open.entry(format!("{:?}", m.capability))
            .or_default()
            .push(m.id.as_str());
    }
    for capability in [
        Capability::Image,
        Capability::Video,
        Capability::Speech,
        Capability::Music,
        Capability::Assembly,
    ] {
        let models = open
            .get(&format!("{capability:?}"))
            .cloned()
            .unwrap_or_default();
        assert!(models.len() >= 2, "{capability:?}: {models:?}");
    }
    // The second keyframe and music models are at another provider than the first.
    let providers = |cap: Capability| {
        let mut p: Vec<_> = v6
            .with_capability(cap)
            .filter(|m| open_to_every_stage(m))
            .map(|m| m.provider)
            .collect();
        p.sort();
        p.dedup();
        p.len()
    };
    assert!(providers(Capability::Image) >= 2);
    assert!(providers(Capability::Music) >= 2);
    // Version 5 had one model for each of these three.
    for cap in [Capability::Image, Capability::Speech, Capability::Music] {
        let n = v(5)
            .with_capability(cap)
            .filter(|m| open_to_every_stage(m))
            .count();
        assert_eq!(n, 1, "{cap:?}");
    }
}

fn config(model: &ModelSpec) -> ProviderConfig {
    let base = default_base_url(model.provider).unwrap_or("https://assembler.example.test");
    let mut cfg = ProviderConfig::new(base, "key");
    cfg.secret_key = Some(Secret::new("secret"));
    cfg.webhook_secret = Some(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    cfg
}

/// The request the shell would build for a stage of the model's capability
fn request(model: &ModelSpec) -> SubmitRequest {
    let kind = kind_of(model.capability);
    let a = adapter(model.provider);
    let mut req = SubmitRequest {
        job: JobId("rnd_v6".into()),
        stage: StageId(format!("s01.{}", kind.as_str())),
        attempt: Attempt(1),
        provider_model: model.provider_model.clone(),
        kind,
        prompt: "the keeper lights the lamp as the storm comes in".into(),
        negative_prompt: None,
        duration_s: 5.0,
        aspect: Some(AspectRatio::Landscape),
        image_url: None,
        image_inline: None,
        reference_images: vec![],
        voice_id: None,
        text: None,
        language: None,
        callback_url: Some(
            "https://render.example.test/v1/callbacks/x/rnd_v6/s01/1?exp=1&token=t".into(),
        ),
        idempotency_key: "rnd_v6:s01:1".into(),
        timeline: None,
    };
    match model.capability {
        Capability::Video if a.needs_inline_image() => {
            req.image_inline = Some(InlineImage {
                mime_type: "image/png".into(),
                data_base64: "iVBORw0KGgo=".into(),
            });
        }
        Capability::Video => {
            req.image_url = Some("https://render.example.test/v1/media/k.png".into());
        }
        Capability::Speech => {
            req.voice_id = Some("21m00Tcm4TlvDq8ikWAM".into());
            req.text = Some("Forty years, and the light never failed.".into());
        }
        Capability::Music => req.duration_s = 45.0,
        Capability::Assembly => req.timeline = Some(serde_json::json!({ "clips": [] })),
        Capability::Frame => {
            req.timeline = Some(serde_json::json!({ "clips": [], "still": "last_frame" }));
        }
        Capability::Image => {}
    }
    req
}

#[test]
fn every_v6_model_reaches_its_provider_by_name() {
    for model in v(6).models.iter().filter(|m| in_service(m, NOW)) {
        let a = adapter(model.provider);
        assert_eq!(a.kind(), model.provider);
        let http = a
            .build_submit(
                &request(model),
                &config(model),
                Timestamp(1_790_000_000_000),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", model.id));
        assert!(
            http.url.starts_with(config(model).base_url.as_str()),
            "{}: {}",
            model.id,
            http.url
        );
        // Our assembler and Shotstack run one edit each: their model name is ours alone.
        if matches!(model.capability, Capability::Assembly | Capability::Frame) {
            continue;
        }
        let body = String::from_utf8_lossy(&http.body);
        let named = |s: &str| s.contains(&format!("\"{}\"", model.provider_model));
        assert!(
            http.url.contains(&model.provider_model) || named(&body),
            "{}: {} {body}",
            model.id,
            http.url
        );
    }
}

fn stage(kind: StageKind, duration_s: f64) -> StageRequest {
    StageRequest {
        stage: StageId(format!("s01.{}", kind.as_str())),
        kind,
        shot_kind: (kind == StageKind::Keyframe).then_some(ShotKind::Establishing),
        hero: false,
        duration_s,
        aspect: AspectRatio::Landscape,
        needs_continuity: false,
        shot: Some(ShotId("s01".into())),
        chars: 0,
    }
}

fn context() -> RoutingContext {
    RoutingContext {
        creator: CreatorId("demo".into()),
        outcome_target: OutcomeTarget::WatchTime,
        budget_usd: 5.0,
        deadline_s: 3600.0,
        memory: MemoryContext::default(),
    }
}

fn candidates(req: &StageRequest) -> Vec<String> {
    route_stage(&v(6), req, &context())
        .unwrap()
        .candidates
        .iter()
        .map(|c| c.model.to_string())
        .collect()
}

#[test]
fn keyframes_and_scores_have_a_model_to_fall_back_to() {
    // BFL's own endpoint leads; the same weights on Replicate are next.
    let keyframe = candidates(&stage(StageKind::Keyframe, 0.0));
    assert_eq!(keyframe, ["flux-1.1-pro", "flux-1.1-pro-replicate"]);
    // The newer MiniMax generation leads; Eleven Music, at another provider, then music-1.5.
    let score = candidates(&stage(StageKind::Score, 60.0));
    assert_eq!(score.first().map(String::as_str), Some("minimax-music-2.6"));
    assert!(score.iter().any(|m| m == "eleven-music-v1"), "{score:?}");
    assert_eq!(score.len(), 3, "{score:?}");
}
