//! Cast looks with real reference images: uploads are checked by their bytes and kept under the
//! creator's prefix, every keyframe and motion of the cast member sends them to the models
//! whose API takes them, Ra's continuity score credits exactly those models, and a brief may
//! take a cast member from the Graph by id.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{World, created, example_brief};
use studio::brief::validate::{cast_from_graph, graph_cast_ids};
use studio::brief::{AspectRatio, BriefError, OutcomeTarget, ShotKind, parse_brief};
use studio::ids::{CreatorId, ShotId, StageId};
use studio::job::{Effect, StageInputs};
use studio::memory::graph::{Look, MemoryGraph};
use studio::memory::looks_upload::{Added, add_reference_image, check_upload};
use studio::memory::{CastLook, MemoryContext, MemoryError, NgramEmbedder, build_context};
use studio::plan::{Capability, StageKind};
use studio::providers::config::Secret;
use studio::providers::references::{continuity_score, reference_limit};
use studio::providers::{InlineImage, ProviderConfig, SubmitRequest, adapter};
use studio::routing::{Registry, RoutingContext, StageRequest, route_stage};
use studio::time::Timestamp;

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];

fn demo() -> CreatorId {
    CreatorId("demo".into())
}

fn refs(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| format!("https://render.example.test/v1/media/creators/demo/looks/keeper/ref{i}.png?exp=9&sig=00"))
        .collect()
}

/// A request for `model`'s stage kind, carrying four references
fn request(model: &studio::routing::ModelSpec) -> SubmitRequest {
    let kind = match model.capability {
        Capability::Image => StageKind::Keyframe,
        _ => StageKind::Motion,
    };
    let a = adapter(model.provider);
    SubmitRequest {
        job: studio::ids::JobId("rnd_refs".into()),
        stage: StageId(format!("s02.{}", kind.as_str())),
        attempt: studio::ids::Attempt(1),
        provider_model: model.provider_model.clone(),
        kind,
        prompt: "Ines winding the clockwork of the lamp".into(),
        negative_prompt: None,
        duration_s: 5.0,
        aspect: Some(AspectRatio::Landscape),
        image_url: (kind == StageKind::Motion && !a.needs_inline_image()).then(|| {
            "https://render.example.test/v1/media/renders/rnd_refs/s02.keyframe/1/output.png".into()
        }),
        image_inline: (kind == StageKind::Motion && a.needs_inline_image()).then(|| InlineImage {
            mime_type: "image/png".into(),
            data_base64: "iVBORw0KGgo=".into(),
        }),
        reference_images: refs(4),
        voice_id: None,
        text: None,
        language: None,
        callback_url: Some(
            "https://render.example.test/v1/callbacks/x/rnd_refs/s02/1?exp=1&token=t".into(),
        ),
        idempotency_key: "rnd_refs:s02:1".into(),
        timeline: None,
    }
}

fn config(model: &studio::routing::ModelSpec) -> ProviderConfig {
    let mut cfg = ProviderConfig::new("https://provider.example.test", "key");
    cfg.secret_key = Some(Secret::new("secret"));
    cfg.webhook_secret = Some(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    let _ = model;
    cfg
}

#[test]
fn every_image_and_video_model_sends_exactly_the_references_continuity_credits() {
    let registry = Registry::builtin_version(5).unwrap();
    let mut takers = Vec::new();
    for model in registry
        .models
        .iter()
        .filter(|m| matches!(m.capability, Capability::Image | Capability::Video))
    {
        let req = request(model);
        let http = adapter(model.provider)
            .build_submit(&req, &config(model), Timestamp(1_750_000_000_000))
            .unwrap_or_else(|e| panic!("{}: {e}", model.id));
        let body = String::from_utf8_lossy(&http.body).into_owned();
        let sent = req
            .reference_images
            .iter()
            .filter(|r| body.contains(r.as_str()))
            .count();
        let limit = reference_limit(model.provider, &model.provider_model, req.kind);
        assert_eq!(sent, limit.min(4), "{}: {body}", model.id);
        let score = continuity_score(model.provider, &model.provider_model, req.kind, 4);
        assert_eq!(
            score == 1.0,
            sent > 0,
            "{}: credited {score}, sent {sent}",
            model.id
        );
        if sent > 0 {
            takers.push(model.id.to_string());
        }
    }
    assert_eq!(takers, ["flux-kontext-pro", "kling-1.6-multi"]);
}

fn stage(kind: StageKind, shot_kind: ShotKind, hero: bool) -> StageRequest {
    StageRequest {
        stage: StageId(format!("s02.{}", kind.as_str())),
        kind,
        shot_kind: Some(shot_kind),
        hero,
        duration_s: if kind == StageKind::Motion { 5.0 } else { 0.0 },
        aspect: AspectRatio::Landscape,
        needs_continuity: true,
        shot: Some(ShotId("s02".into())),
        chars: 0,
    }
}

fn context(references: usize) -> RoutingContext {
    let mut memory = MemoryContext::default();
    if references > 0 {
        memory
            .shot_references
            .insert(ShotId("s02".into()), references);
    }
    RoutingContext {
        creator: demo(),
        outcome_target: OutcomeTarget::WatchTime,
        budget_usd: 5.0,
        deadline_s: 3600.0,
        memory,
    }
}

fn ranked(req: &StageRequest, ctx: &RoutingContext) -> Vec<(String, f64)> {
    route_stage(&Registry::builtin_version(5).unwrap(), req, ctx)
        .unwrap()
        .candidates
        .iter()
        .map(|c| (c.model.to_string(), c.scores.continuity))
        .collect()
}

#[test]
fn a_locked_look_with_images_moves_ra_to_the_models_that_use_them() {
    // Keyframe: equal quality, so continuity decides; without references the id does.
    let key = stage(StageKind::Keyframe, ShotKind::CloseUp, false);
    let with = ranked(&key, &context(2));
    assert_eq!(with[0], ("flux-kontext-pro".into(), 1.0), "{with:?}");
    assert!(with.contains(&("flux-1.1-pro".into(), 0.0)), "{with:?}");
    // Without references the reference models are not candidates: routing is as before.
    let without = ranked(&key, &context(0));
    assert_eq!(without, [("flux-1.1-pro".to_owned(), 1.0)]);

    // Motion of a close-up: Kling 1.6 is within the quality band and is the one model that
    // sends the references; the others start from a keyframe made with them (half credit).
    let motion = stage(StageKind::Motion, ShotKind::CloseUp, false);
    let with = ranked(&motion, &context(2));
    assert_eq!(with[0], ("kling-1.6-multi".into(), 1.0), "{with:?}");
    assert!(with.iter().skip(1).all(|(_, c)| *c == 0.5), "{with:?}");
    let without = ranked(&motion, &context(0));
    assert!(
        without.iter().all(|(m, _)| m != "kling-1.6-multi"),
        "{without:?}"
    );
    // A hero shot keeps the best quality: continuity never buys a lesser take of a hero.
    let hero = ranked(
        &stage(StageKind::Motion, ShotKind::CloseUp, true),
        &context(2),
    );
    assert_ne!(hero[0].0, "kling-1.6-multi", "{hero:?}");
}

/// The demo creator's graph with a look for the keeper that has two reference images
fn graph_with_keeper() -> MemoryGraph {
    let mut g = MemoryGraph::new(demo());
    g.looks.push(Look {
        cast_id: "keeper".into(),
        description: "weathered woman in her sixties, yellow oilskin".into(),
        reference_images: vec![
            "creators/demo/looks/keeper/a.png".into(),
            "creators/demo/looks/keeper/b.jpg".into(),
        ],
    });
    g
}

#[test]
fn the_context_counts_each_shots_references() {
    let brief = example_brief();
    let ctx = build_context(&graph_with_keeper(), &brief, &NgramEmbedder::default(), 0);
    // s02, s04, s08, s10, s12 show the keeper; s07 only the gull, who has no look.
    let shots: Vec<&str> = ctx.shot_references.keys().map(|s| s.as_str()).collect();
    assert_eq!(shots, ["s02", "s04", "s08", "s10", "s12"]);
    assert!(ctx.shot_references.values().all(|n| *n == 2));
}

#[test]
fn every_keyframe_and_motion_of_the_cast_member_sends_the_references() {
    let brief = example_brief();
    let context = build_context(&graph_with_keeper(), &brief, &NgramEmbedder::default(), 0);
    let keys = graph_with_keeper().looks[0].reference_images.clone();
    let mut world = World::with(created(brief, 42, false), |fake| fake.memory = context);
    world.run();
    let mut seen = BTreeMap::new();
    for (_, effect) in &world.effects {
        let Effect::Submit {
            stage,
            model,
            inputs,
            ..
        } = effect
        else {
            continue;
        };
        let sent = match inputs {
            StageInputs::Image {
                reference_images, ..
            }
            | StageInputs::Video {
                reference_images, ..
            } => reference_images.clone(),
            _ => continue,
        };
        seen.insert(stage.to_string(), (model.to_string(), sent));
    }
    for shot in ["s02", "s04", "s08", "s10", "s12"] {
        for kind in ["keyframe", "motion"] {
            let (_, sent) = &seen[&format!("{shot}.{kind}")];
            assert_eq!(sent, &keys, "{shot}.{kind}");
        }
    }
    for shot in ["s01", "s03", "s07"] {
        assert!(seen[&format!("{shot}.motion")].1.is_empty(), "{shot}");
    }
    // Keyframes with references go to the model that takes them; the close-up's motion too.
    assert_eq!(seen["s02.keyframe"].0, "flux-kontext-pro");
    assert_eq!(seen["s03.keyframe"].0, "flux-1.1-pro");
    assert_eq!(seen["s02.motion"].0, "kling-1.6-multi");
}

#[test]
fn uploads_are_checked_by_their_bytes_and_kept_under_the_creators_prefix() {
    let up = check_upload(&demo(), "keeper", Some("image/png"), PNG).unwrap();
    assert!(up.key.starts_with("creators/demo/looks/keeper/") && up.key.ends_with(".png"));
    // The same bytes name the same key: an upload repeated is one image.
    assert_eq!(
        check_upload(&demo(), "keeper", None, PNG).unwrap().key,
        up.key
    );
    let err = check_upload(&demo(), "keeper", Some("image/png"), b"%PDF-1.7 ...").unwrap_err();
    assert_eq!(err.field(), "body");
    let err = check_upload(&demo(), "keeper", Some("text/html"), PNG).unwrap_err();
    assert_eq!(err.field(), "Content-Type");
    let err = check_upload(&demo(), "../rival", Some("image/png"), PNG).unwrap_err();
    assert_eq!(err.field(), "cast");

    let mut g = MemoryGraph::new(demo());
    let (added, changes) = add_reference_image(&mut g, "keeper", &up.key).unwrap();
    assert_eq!(added, Added::Added);
    assert_eq!(changes.len(), 1);
    assert_eq!(g.looks[0].reference_images, std::slice::from_ref(&up.key));
    assert_eq!(g.looks[0].description, "");
    let (again, changes) = add_reference_image(&mut g, "keeper", &up.key).unwrap();
    assert_eq!((again, changes.len()), (Added::AlreadyThere, 0));
    // Another creator's key is never recorded, whatever its shape.
    let before = g.clone();
    let err = add_reference_image(&mut g, "keeper", "creators/rival/looks/keeper/x.png");
    assert!(
        matches!(err, Err(MemoryError::Invalid { ref field, .. }) if field == "looks.keeper.reference_images")
    );
    assert_eq!(g, before);
    // Eight per look.
    for i in 0..7 {
        add_reference_image(
            &mut g,
            "keeper",
            &format!("creators/demo/looks/keeper/{i}.png"),
        )
        .unwrap();
    }
    assert!(add_reference_image(&mut g, "keeper", "creators/demo/looks/keeper/9.png").is_err());
    assert_eq!(g.looks[0].reference_images.len(), 8);
}

#[test]
fn a_brief_takes_cast_members_from_the_graph_by_id() {
    let mut v: serde_json::Value = serde_json::from_str(common::EXAMPLE).unwrap();
    v["cast"][0] = serde_json::json!({"id": "keeper"});
    let brief = parse_brief(v.to_string().as_bytes()).unwrap().brief;
    assert_eq!(graph_cast_ids(&brief), ["keeper"]);
    let looks: BTreeMap<String, CastLook> = [(
        "keeper".to_owned(),
        CastLook {
            description: "weathered woman, yellow oilskin".into(),
            reference_images: vec!["creators/demo/looks/keeper/a.png".into()],
        },
    )]
    .into();
    let filled = cast_from_graph(brief.clone(), &looks).unwrap();
    assert_eq!(filled.cast[0].name, "keeper");
    assert_eq!(
        filled.cast[0].description,
        "weathered woman, yellow oilskin"
    );
    assert_eq!(filled.cast[1], brief.cast[1]);
    assert!(studio::brief::validate_brief(filled).is_ok());
    // Without a look in the Graph: a 400 naming the field, before anything happens.
    let err = cast_from_graph(brief, &BTreeMap::new()).unwrap_err();
    assert!(
        matches!(&err, BriefError::Invalid { field, .. } if field == "cast[0].description"),
        "{err:?}"
    );
    // A description without a name is not an id-only entry: the name is missing.
    v["cast"][0] = serde_json::json!({"id": "keeper", "description": "oilskin"});
    let err = parse_brief(v.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.field(), Some("cast[0].name"), "{err:?}");
    // Nor is a blank name: only a name left out takes the member from the Graph.
    for blank in ["", "  "] {
        v["cast"][0] = serde_json::json!({"id": "keeper", "name": blank, "description": ""});
        let err = parse_brief(v.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.field(), Some("cast[0].name"), "{blank:?}: {err:?}");
    }
}
