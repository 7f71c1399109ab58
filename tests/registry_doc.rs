//! The registry as data: publications become the next version or are refused naming the field,
//! the record's changes are the diff of the two versions, retirements take effect at their
//! moment.

use proptest::prelude::*;
use studio::brief::{AspectRatio, ShotKind};
use studio::ids::ModelId;
use studio::plan::Capability;
use studio::providers::ProviderKind;
use studio::routing::registry_doc::{
    Latency, Moment, Publication, RegistryChange, RegistryEdit, RegistryError,
    RegistryVersionRecord, diff, in_service, in_service_models, may_submit, publish, serving,
    validate,
};
use studio::routing::{FeatureFlag, ModelSpec, Pricing, Registry};
use studio::time::Timestamp;

/// 2026-03-01T00:00:00Z
const NOW: Timestamp = Timestamp(1_772_323_200_000);
/// 2026-06-01T00:00:00Z
const JUNE: Timestamp = Timestamp(1_780_272_000_000);

fn latest() -> Registry {
    Registry::builtin()
}

fn edits(edits: Vec<RegistryEdit>) -> Publication {
    Publication {
        note: "test".into(),
        edits,
        models: None,
    }
}

fn id(s: &str) -> ModelId {
    ModelId(s.into())
}

/// A model of `capability` that serves everyone in the latest version
fn some_model(capability: Capability) -> ModelSpec {
    latest()
        .models
        .into_iter()
        .find(|m| m.capability == capability && m.flag.is_none() && m.retired_from.is_none())
        .unwrap()
}

/// Publishes one edit on the latest version and returns the new registry and its changes
fn publish_one(edit: RegistryEdit) -> (Registry, Vec<RegistryChange>) {
    let published = publish(&latest(), &edits(vec![edit]), NOW, "ops@studio").unwrap();
    (published.registry, published.record.changes)
}

/// The error of a publication on the latest version, which must not change
fn refusal(publication: &Publication) -> RegistryError {
    let before = latest();
    let copy = before.clone();
    let error = publish(&before, publication, NOW, "ops@studio").unwrap_err();
    assert_eq!(before, copy);
    error
}

fn refused_field(publication: &Publication) -> String {
    refusal(publication).field().unwrap().to_owned()
}

#[test]
fn every_built_in_version_validates() {
    for v in 1..=Registry::LATEST_VERSION {
        let registry = Registry::builtin_version(v).unwrap();
        assert_eq!(validate(&registry), Ok(()), "built-in version {v}");
    }
}

#[test]
fn a_publication_is_the_next_version_with_its_record() {
    let veo = some_model(Capability::Video);
    let published = publish(
        &latest(),
        &Publication {
            note: "  price cut  ".into(),
            ..edits(vec![RegistryEdit::SetConcurrency {
                model: veo.id.clone(),
                concurrency: veo.concurrency + 1,
            }])
        },
        NOW,
        "ops@studio",
    )
    .unwrap();
    assert_eq!(published.registry.version, latest().version + 1);
    let record = &published.record;
    assert_eq!(record.version, published.registry.version);
    assert_eq!(record.published_at, NOW);
    assert_eq!(record.published_by, "ops@studio");
    assert_eq!(record.note, "price cut");
    assert_eq!(record.changes, diff(&latest(), &published.registry));
    // And the next publication builds on it.
    let again = publish(
        &published.registry,
        &edits(vec![RegistryEdit::SetConcurrency {
            model: veo.id.clone(),
            concurrency: veo.concurrency + 2,
        }]),
        NOW,
        "ops@studio",
    )
    .unwrap();
    assert_eq!(again.registry.version, latest().version + 2);
}

#[test]
fn a_price_edit_is_applied_and_reported() {
    let m = some_model(Capability::Video);
    let to = Pricing::PerSecond { usd: 0.123 };
    let (next, changes) = publish_one(RegistryEdit::SetPrice {
        model: m.id.clone(),
        pricing: to,
    });
    assert_eq!(next.get(&m.id).unwrap().pricing, to);
    assert_eq!(
        changes,
        vec![RegistryChange::PriceChanged {
            model: m.id,
            from: m.pricing,
            to
        }]
    );
}

#[test]
fn quality_edits_are_applied_and_reported() {
    let m = some_model(Capability::Video);
    let old = m.quality.get(&ShotKind::Crowd).copied();
    let (next, changes) = publish_one(RegistryEdit::SetQuality {
        model: m.id.clone(),
        kind: Some(ShotKind::Crowd),
        prior: 0.5,
    });
    assert_eq!(
        next.get(&m.id).unwrap().quality_for(Some(ShotKind::Crowd)),
        0.5
    );
    assert_eq!(
        changes,
        vec![RegistryChange::QualityChanged {
            model: m.id.clone(),
            kind: Some(ShotKind::Crowd),
            from: old,
            to: Some(0.5)
        }]
    );

    let (next, changes) = publish_one(RegistryEdit::SetQuality {
        model: m.id.clone(),
        kind: None,
        prior: 0.42,
    });
    assert_eq!(next.get(&m.id).unwrap().default_quality, 0.42);
    assert_eq!(
        changes,
        vec![RegistryChange::QualityChanged {
            model: m.id.clone(),
            kind: None,
            from: Some(m.default_quality),
            to: Some(0.42)
        }]
    );

    let (kind, prior) = m.quality.iter().next().map(|(k, p)| (*k, *p)).unwrap();
    let (next, changes) = publish_one(RegistryEdit::ClearQuality {
        model: m.id.clone(),
        kind,
    });
    assert_eq!(
        next.get(&m.id).unwrap().quality_for(Some(kind)),
        m.default_quality
    );
    assert_eq!(
        changes,
        vec![RegistryChange::QualityChanged {
            model: m.id,
            kind: Some(kind),
            from: Some(prior),
            to: None
        }]
    );
}

#[test]
fn latency_and_concurrency_edits_are_applied_and_reported() {
    let m = some_model(Capability::Image);
    let (next, changes) = publish_one(RegistryEdit::SetLatency {
        model: m.id.clone(),
        p50_ms: 1_234,
        p95_ms: 5_678,
    });
    let spec = next.get(&m.id).unwrap();
    assert_eq!((spec.latency_p50_ms, spec.latency_p95_ms), (1_234, 5_678));
    assert_eq!(
        changes,
        vec![RegistryChange::LatencyChanged {
            model: m.id.clone(),
            from: Latency {
                p50_ms: m.latency_p50_ms,
                p95_ms: m.latency_p95_ms
            },
            to: Latency {
                p50_ms: 1_234,
                p95_ms: 5_678
            }
        }]
    );

    let (next, changes) = publish_one(RegistryEdit::SetConcurrency {
        model: m.id.clone(),
        concurrency: 1,
    });
    assert_eq!(next.get(&m.id).unwrap().concurrency, 1);
    assert_eq!(
        changes,
        vec![RegistryChange::ConcurrencyChanged {
            model: m.id,
            from: m.concurrency,
            to: 1
        }]
    );
}

#[test]
fn flag_edits_are_applied_and_reported() {
    let m = some_model(Capability::Video);
    let flag = FeatureFlag {
        name: "trial".into(),
        rollout_percent: 25,
        allowlist: vec!["creator-7".into()],
    };
    let (next, changes) = publish_one(RegistryEdit::SetFlag {
        model: m.id.clone(),
        flag: Some(flag.clone()),
    });
    assert_eq!(next.get(&m.id).unwrap().flag, Some(flag.clone()));
    assert_eq!(
        changes,
        vec![RegistryChange::FlagChanged {
            model: m.id.clone(),
            from: None,
            to: Some(flag.clone())
        }]
    );

    let flagged = publish(
        &next,
        &edits(vec![RegistryEdit::SetRollout {
            model: m.id.clone(),
            rollout_percent: 60,
        }]),
        NOW,
        "ops",
    )
    .unwrap();
    let after = FeatureFlag {
        rollout_percent: 60,
        ..flag.clone()
    };
    assert_eq!(
        flagged.registry.get(&m.id).unwrap().flag,
        Some(after.clone())
    );
    assert_eq!(
        flagged.record.changes,
        vec![RegistryChange::FlagChanged {
            model: m.id.clone(),
            from: Some(flag),
            to: Some(after)
        }]
    );

    // A rollout needs a flag to change.
    let error = refusal(&edits(vec![RegistryEdit::SetRollout {
        model: m.id,
        rollout_percent: 60,
    }]));
    assert_eq!(error.field(), Some("edits[0].model"));
}

#[test]
fn add_and_replace_edits_are_applied_and_reported() {
    let base = some_model(Capability::Video);
    let new = ModelSpec {
        id: id("veo-9"),
        provider_model: "veo-9.0".into(),
        ..base.clone()
    };
    let (next, changes) = publish_one(RegistryEdit::AddModel { spec: new.clone() });
    assert_eq!(next.get(&new.id), Some(&new));
    assert_eq!(next.models.len(), latest().models.len() + 1);
    assert_eq!(changes, vec![RegistryChange::Added { model: new.id }]);

    let replaced = ModelSpec {
        continuity: !base.continuity,
        aspects: vec![AspectRatio::Square],
        ..base.clone()
    };
    let (next, changes) = publish_one(RegistryEdit::ReplaceModel {
        spec: replaced.clone(),
    });
    assert_eq!(next.get(&base.id), Some(&replaced));
    assert_eq!(
        changes,
        vec![
            RegistryChange::AspectsChanged {
                model: base.id.clone(),
                from: base.aspects.clone(),
                to: vec![AspectRatio::Square]
            },
            RegistryChange::ContinuityChanged {
                model: base.id.clone(),
                to: !base.continuity
            }
        ]
    );
}

#[test]
fn retire_and_unretire_are_applied_and_reported() {
    let m = some_model(Capability::Video);
    let (retired, changes) = publish_one(RegistryEdit::Retire {
        model: m.id.clone(),
        from: None,
    });
    assert_eq!(retired.get(&m.id).unwrap().retired_from, Some(NOW));
    assert_eq!(
        changes,
        vec![RegistryChange::Retired {
            model: m.id.clone(),
            from: NOW
        }]
    );
    assert!(!in_service(&retired, &m.id, NOW));
    assert!(!may_submit(&retired, &m.id, NOW));

    // Retiring it again is a mistake; unretiring brings it back.
    let again = publish(
        &retired,
        &edits(vec![RegistryEdit::Retire {
            model: m.id.clone(),
            from: None,
        }]),
        NOW,
        "ops",
    )
    .unwrap_err();
    assert_eq!(again.field(), Some("edits[0].model"));
    let back = publish(
        &retired,
        &edits(vec![RegistryEdit::Unretire {
            model: m.id.clone(),
        }]),
        NOW,
        "ops",
    )
    .unwrap();
    assert_eq!(back.registry.get(&m.id).unwrap().retired_from, None);
    assert_eq!(
        back.record.changes,
        vec![RegistryChange::Unretired {
            model: m.id.clone()
        }]
    );
    assert!(in_service(&back.registry, &m.id, NOW));

    // Unretiring a model in service is refused.
    let error = refusal(&edits(vec![RegistryEdit::Unretire { model: m.id }]));
    assert_eq!(error.field(), Some("edits[0].model"));
}

#[test]
fn retiring_from_a_future_date_keeps_the_model_in_service_until_then() {
    let m = some_model(Capability::Video);
    let (next, changes) = publish_one(RegistryEdit::Retire {
        model: m.id.clone(),
        from: Some(Moment::Text("2026-06-01".into())),
    });
    assert_eq!(
        changes,
        vec![RegistryChange::Retired {
            model: m.id.clone(),
            from: JUNE
        }]
    );
    let before = Timestamp(JUNE.0 - 1);
    assert!(in_service(&next, &m.id, NOW));
    assert!(in_service(&next, &m.id, before));
    assert!(!in_service(&next, &m.id, JUNE));
    assert!(may_submit(&next, &m.id, before));
    assert!(!may_submit(&next, &m.id, JUNE));
    assert!(serving(&next, before).get(&m.id).is_some());
    assert!(serving(&next, JUNE).get(&m.id).is_none());
    assert_eq!(serving(&next, JUNE).version, next.version);
    assert_eq!(
        in_service_models(&next, JUNE).count(),
        in_service_models(&next, before).count() - 1
    );
}

#[test]
fn a_retirement_in_the_past_takes_effect_now() {
    let m = some_model(Capability::Video);
    let (next, _) = publish_one(RegistryEdit::Retire {
        model: m.id.clone(),
        from: Some(Moment::Millis(Timestamp(NOW.0 - 86_400_000))),
    });
    assert_eq!(next.get(&m.id).unwrap().retired_from, Some(NOW));
}

#[test]
fn retiring_the_only_speech_models_is_refused_naming_speech() {
    let speech: Vec<ModelId> = latest()
        .with_capability(Capability::Speech)
        .map(|m| m.id.clone())
        .collect();
    assert!(!speech.is_empty());
    let retire_all: Vec<RegistryEdit> = speech
        .iter()
        .map(|model| RegistryEdit::Retire {
            model: model.clone(),
            from: Some(Moment::Millis(JUNE)),
        })
        .collect();
    let last = retire_all.len() - 1;
    assert_eq!(
        refusal(&edits(retire_all.clone())),
        RegistryError::NoModelInService {
            field: format!("edits[{last}]"),
            capability: Capability::Speech
        }
    );
    // All but one is fine.
    if last > 0 {
        let mut all_but_one = retire_all;
        all_but_one.pop();
        assert!(publish(&latest(), &edits(all_but_one), NOW, "ops").is_ok());
    }
    // A flag that shuts the last one off for most creators is the same hole.
    let mut one_left = latest();
    one_left
        .models
        .retain(|m| m.capability != Capability::Speech || m.id == speech[0]);
    let error = publish(
        &one_left,
        &edits(vec![RegistryEdit::SetFlag {
            model: speech[0].clone(),
            flag: Some(FeatureFlag {
                name: "trial".into(),
                rollout_percent: 10,
                allowlist: vec![],
            }),
        }]),
        NOW,
        "ops",
    )
    .unwrap_err();
    assert!(matches!(
        error,
        RegistryError::NoModelInService {
            capability: Capability::Speech,
            ..
        }
    ));
}

#[test]
fn retiring_the_only_frame_model_is_allowed() {
    let frames: Vec<RegistryEdit> = latest()
        .with_capability(Capability::Frame)
        .map(|m| RegistryEdit::Retire {
            model: m.id.clone(),
            from: None,
        })
        .collect();
    assert!(!frames.is_empty());
    assert!(publish(&latest(), &edits(frames), NOW, "ops").is_ok());
}

#[test]
fn bad_values_are_refused_with_their_path() {
    let m = some_model(Capability::Video);
    let cases = [
        (
            RegistryEdit::SetPrice {
                model: m.id.clone(),
                pricing: Pricing::PerSecond { usd: -0.1 },
            },
            "edits[1].pricing.usd",
        ),
        (
            RegistryEdit::SetPrice {
                model: m.id.clone(),
                pricing: Pricing::PerImage { usd: f64::NAN },
            },
            "edits[1].pricing.usd",
        ),
        (
            RegistryEdit::SetLatency {
                model: m.id.clone(),
                p50_ms: 9_000,
                p95_ms: 8_000,
            },
            "edits[1].p95_ms",
        ),
        (
            RegistryEdit::SetLatency {
                model: m.id.clone(),
                p50_ms: 0,
                p95_ms: 8_000,
            },
            "edits[1].p50_ms",
        ),
        (
            RegistryEdit::SetRollout {
                model: m.id.clone(),
                rollout_percent: 150,
            },
            "edits[1].rollout_percent",
        ),
        (
            RegistryEdit::SetFlag {
                model: m.id.clone(),
                flag: Some(FeatureFlag {
                    name: "x".into(),
                    rollout_percent: 150,
                    allowlist: vec![],
                }),
            },
            "edits[1].flag.rollout_percent",
        ),
        (
            RegistryEdit::SetQuality {
                model: m.id.clone(),
                kind: None,
                prior: 1.5,
            },
            "edits[1].prior",
        ),
        (
            RegistryEdit::SetConcurrency {
                model: m.id.clone(),
                concurrency: 0,
            },
            "edits[1].concurrency",
        ),
        (
            RegistryEdit::Retire {
                model: m.id.clone(),
                from: Some(Moment::Text("2026-02-30".into())),
            },
            "edits[1].from",
        ),
        (
            RegistryEdit::AddModel {
                spec: ModelSpec {
                    id: id("veo-9"),
                    aspects: vec![],
                    ..m.clone()
                },
            },
            "edits[1].spec.aspects",
        ),
        (
            RegistryEdit::AddModel {
                spec: ModelSpec {
                    id: id("veo-9"),
                    provider: ProviderKind::ElevenLabs,
                    capability: Capability::Image,
                    ..m.clone()
                },
            },
            "edits[1].spec.provider",
        ),
        (
            RegistryEdit::AddModel {
                spec: ModelSpec {
                    id: id("veo-9"),
                    provider_model: " ".into(),
                    ..m.clone()
                },
            },
            "edits[1].spec.provider_model",
        ),
        (
            RegistryEdit::AddModel {
                spec: ModelSpec {
                    id: id("Veo 9"),
                    ..m.clone()
                },
            },
            "edits[1].spec.id",
        ),
        (
            RegistryEdit::AddModel { spec: m.clone() },
            "edits[1].spec.id",
        ),
        (
            RegistryEdit::ReplaceModel {
                spec: ModelSpec {
                    capability: Capability::Image,
                    provider: ProviderKind::Bfl,
                    ..m.clone()
                },
            },
            "edits[1].spec.capability",
        ),
    ];
    // A valid first edit shows that nothing of a refused publication is kept.
    let harmless = RegistryEdit::SetConcurrency {
        model: m.id.clone(),
        concurrency: m.concurrency + 1,
    };
    for (edit, path) in cases {
        let publication = edits(vec![harmless.clone(), edit.clone()]);
        assert_eq!(refused_field(&publication), path, "{edit:?}");
    }
}

#[test]
fn an_unknown_model_is_refused_naming_the_edit() {
    let error = refusal(&edits(vec![
        RegistryEdit::SetConcurrency {
            model: some_model(Capability::Image).id,
            concurrency: 3,
        },
        RegistryEdit::SetPrice {
            model: id("no-such-model"),
            pricing: Pricing::Free,
        },
    ]));
    assert_eq!(
        error,
        RegistryError::UnknownModel {
            field: "edits[1].model".into(),
            model: id("no-such-model"),
            version: latest().version
        }
    );
}

#[test]
fn a_whole_list_is_validated_under_model_paths() {
    let mut models = latest().models;
    let whole = |models: Vec<ModelSpec>| Publication {
        note: "sync".into(),
        edits: vec![],
        models: Some(models),
    };

    let first = models[0].clone();
    models[0].latency_p95_ms = first.latency_p50_ms - 1;
    assert_eq!(
        refused_field(&whole(models.clone())),
        format!("models[{}].latency_p95_ms", first.id)
    );

    let mut dup = latest().models;
    dup.push(first.clone());
    assert_eq!(
        refused_field(&whole(dup.clone())),
        format!("models[{}].id", dup.len() - 1)
    );

    let mut removed = latest().models;
    removed.remove(0);
    assert_eq!(refused_field(&whole(removed)), "models");

    // A valid list publishes, and its record is the diff.
    let mut changed = latest().models;
    changed[0].concurrency += 1;
    changed[1].pricing = Pricing::PerSecond { usd: 0.01 };
    let published = publish(&latest(), &whole(changed), NOW, "ci").unwrap();
    assert_eq!(published.record.changes.len(), 2);
    assert_eq!(
        published.record.changes,
        diff(&latest(), &published.registry)
    );
}

#[test]
fn bounds_are_checked_first() {
    let m = some_model(Capability::Image);
    let one = RegistryEdit::SetConcurrency {
        model: m.id.clone(),
        concurrency: 3,
    };
    let blank = Publication {
        note: "   ".into(),
        ..edits(vec![one.clone()])
    };
    assert_eq!(refused_field(&blank), "note");
    let long = Publication {
        note: "x".repeat(501),
        ..edits(vec![one.clone()])
    };
    assert_eq!(refused_field(&long), "note");
    // 101 edits, even of an unknown model: the bound is checked before any of them.
    let many = edits(vec![
        RegistryEdit::Unretire {
            model: id("no-such-model")
        };
        101
    ]);
    assert_eq!(refused_field(&many), "edits");
    assert_eq!(refused_field(&edits(vec![])), "edits");
    let both = Publication {
        models: Some(latest().models),
        ..edits(vec![one])
    };
    assert_eq!(refused_field(&both), "models");
}

#[test]
fn diff_of_identical_registries_is_empty_and_publishing_nothing_is_refused() {
    for v in 1..=Registry::LATEST_VERSION {
        let r = Registry::builtin_version(v).unwrap();
        assert_eq!(diff(&r, &r.clone()), vec![]);
    }
    let m = some_model(Capability::Video);
    let same = edits(vec![RegistryEdit::SetPrice {
        model: m.id,
        pricing: m.pricing,
    }]);
    assert_eq!(
        refusal(&same),
        RegistryError::NothingChanged {
            version: latest().version
        }
    );
}

#[test]
fn the_seed_record_adds_every_built_in_model() {
    let builtin = latest();
    let seed = RegistryVersionRecord::seed(&builtin, NOW);
    assert_eq!(seed.version, builtin.version);
    assert_eq!(seed.changes.len(), builtin.models.len());
    assert!(seed.changes.iter().zip(&builtin.models).all(|(c, m)| *c
        == RegistryChange::Added {
            model: m.id.clone()
        }));
}

#[test]
fn a_publication_round_trips_through_json() {
    let body = r#"{
      "note": "Veo price cut; Sora out in June",
      "edits": [
        {"op": "set_price", "model": "veo-3", "pricing": {"unit": "per_second", "usd": 0.35}},
        {"op": "set_quality", "model": "veo-3", "kind": "dialogue", "prior": 0.9},
        {"op": "set_rollout", "model": "wan-2.2", "rollout_percent": 50},
        {"op": "retire", "model": "sora-2", "from": "2026-06-01T00:00:00Z"},
        {"op": "retire", "model": "pika-2.2", "from": 1780272000000},
        {"op": "unretire", "model": "luma-ray-2"}
      ]
    }"#;
    let publication: Publication = serde_json::from_str(body).unwrap();
    assert_eq!(publication.edits.len(), 6);
    assert_eq!(
        publication.edits[3],
        RegistryEdit::Retire {
            model: id("sora-2"),
            from: Some(Moment::Text("2026-06-01T00:00:00Z".into()))
        }
    );
    assert_eq!(
        publication.edits[4],
        RegistryEdit::Retire {
            model: id("pika-2.2"),
            from: Some(Moment::Millis(JUNE))
        }
    );
    let json = serde_json::to_string(&publication).unwrap();
    let back: Publication = serde_json::from_str(&json).unwrap();
    assert_eq!(back, publication);

    // A whole list round-trips too.
    let whole = Publication {
        note: "sync".into(),
        edits: vec![],
        models: Some(latest().models),
    };
    let back: Publication = serde_json::from_str(&serde_json::to_string(&whole).unwrap()).unwrap();
    assert_eq!(back, whole);
}

#[test]
fn a_misspelt_field_is_refused_not_ignored() {
    let typo =
        r#"{"note": "x", "edits": [{"op": "set_rollout", "model": "wan-2.2", "rollout": 50}]}"#;
    assert!(serde_json::from_str::<Publication>(typo).is_err());
    let top = r#"{"note": "x", "edit": []}"#;
    assert!(serde_json::from_str::<Publication>(top).is_err());
}

#[test]
fn moments_read_dates_and_date_times() {
    let at = |s: &str| Moment::Text(s.into()).resolve();
    assert_eq!(at("1970-01-01"), Some(Timestamp(0)));
    assert_eq!(at("2026-03-01"), Some(NOW));
    assert_eq!(at("2026-03-01T00:00:00Z"), Some(NOW));
    assert_eq!(
        at("2024-02-29T12:00:00.123+02:00"),
        Some(Timestamp(1_709_200_800_123))
    );
    assert_eq!(
        at("2030-12-31T23:59:59.999z"),
        Some(Timestamp(1_924_991_999_999))
    );
    for bad in [
        "2026-02-30",
        "2025-02-29",
        "2026-13-01",
        "1969-12-31",
        "2026-03-01T24:00:00Z",
        "2026-03-01T10:00:00",
        "2026-03-01T10:00Z",
        "2026-3-1",
        "yesterday",
        "",
    ] {
        assert_eq!(at(bad), None, "{bad}");
    }
}

#[test]
fn the_model_schema_names_every_field_of_the_model() {
    let schema = schemars::schema_for!(Publication);
    let json = serde_json::to_value(&schema).unwrap();
    let defs = json.get("$defs").unwrap();
    let props: Vec<String> = defs["ModelSpec"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let full = ModelSpec {
        flag: Some(FeatureFlag {
            name: "f".into(),
            rollout_percent: 1,
            allowlist: vec![],
        }),
        retired_from: Some(JUNE),
        ..some_model(Capability::Video)
    };
    let mut fields: Vec<String> = serde_json::to_value(&full)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut props = props;
    props.sort();
    fields.sort();
    assert_eq!(props, fields);
    for name in ["Pricing", "FeatureFlag", "Capability", "RegistryEdit"] {
        assert!(defs.get(name).is_some(), "{name} in $defs");
    }
    let record = serde_json::to_value(schemars::schema_for!(RegistryVersionRecord)).unwrap();
    assert!(record["$defs"].get("RegistryChange").is_some());
}

/// The models the property edits: those of the capabilities with the fewest models (so
/// withdrawing every one of a capability happens often), plus one video and one image model
fn edited_models() -> Vec<ModelId> {
    let registry = latest();
    let few = |c: Capability| registry.with_capability(c).count() <= 2;
    let mut ids: Vec<ModelId> = registry
        .models
        .iter()
        .filter(|m| few(m.capability))
        .map(|m| m.id.clone())
        .collect();
    ids.push(some_model(Capability::Video).id);
    ids.push(some_model(Capability::Image).id);
    ids
}

/// Edits that are mostly valid (so publications often succeed and reach the whole-registry
/// rules), with some bad values and an unknown model mixed in
fn edit_strategy(ids: Vec<ModelId>) -> impl Strategy<Value = RegistryEdit> {
    let model = prop_oneof![
        19 => prop::sample::select(ids),
        1 => Just(id("no-such-model")),
    ];
    let kind = prop::option::of(prop::sample::select(ShotKind::ALL.to_vec()));
    let usd = prop_oneof![
        9 => 0.0..2.0f64,
        1 => prop_oneof![-1.0..0.0f64, Just(f64::INFINITY), Just(500.0)],
    ];
    let prior = prop_oneof![9 => 0.0..=1.0f64, 1 => -0.5..1.5f64];
    let rollout = prop_oneof![9 => 0..=100u8, 1 => 101..=255u8];
    let when = prop::option::of(prop_oneof![
        (NOW.0 - 1_000..NOW.0 + 100_000_000).prop_map(|t| Moment::Millis(Timestamp(t))),
        Just(Moment::Text("2026-03-02".into())),
        Just(Moment::Text("not a date".into())),
    ]);
    prop_oneof![
        1 => (model.clone(), usd).prop_map(|(model, usd)| RegistryEdit::SetPrice {
            model,
            pricing: Pricing::PerSecond { usd }
        }),
        1 => (model.clone(), kind, prior)
            .prop_map(|(model, kind, prior)| { RegistryEdit::SetQuality { model, kind, prior } }),
        1 => (model.clone(), 1..200_000u64, 0..100_000u64).prop_map(|(model, p50_ms, extra)| {
            RegistryEdit::SetLatency {
                model,
                p50_ms,
                // Now and then below p50
                p95_ms: (p50_ms + extra).saturating_sub(5_000),
            }
        }),
        1 => (model.clone(), 0..20u32).prop_map(|(model, concurrency)| RegistryEdit::SetConcurrency {
            model,
            concurrency
        }),
        2 => (model.clone(), rollout.clone()).prop_map(|(model, rollout_percent)| {
            RegistryEdit::SetFlag {
                model,
                flag: Some(FeatureFlag {
                    name: "trial".into(),
                    rollout_percent,
                    allowlist: vec![],
                }),
            }
        }),
        1 => model
            .clone()
            .prop_map(|model| RegistryEdit::SetFlag { model, flag: None }),
        1 => (model.clone(), rollout).prop_map(|(model, rollout_percent)| {
            RegistryEdit::SetRollout {
                model,
                rollout_percent,
            }
        }),
        3 => (model.clone(), when).prop_map(|(model, from)| RegistryEdit::Retire { model, from }),
        1 => model.prop_map(|model| RegistryEdit::Unretire { model }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Any publication fails, or yields the next version, which validates (twice alike), whose
    /// record is the diff, and whose serving set at any moment holds no retired model
    #[test]
    fn a_publication_fails_or_yields_a_valid_next_version(
        publication in prop::collection::vec(
            edit_strategy(edited_models()),
            1..6,
        ),
        later in 0..200_000_000u64,
    ) {
        let base = latest();
        let publication = edits(publication);
        match publish(&base, &publication, NOW, "prop") {
            Err(error) => {
                let named = error.field().is_some()
                    || matches!(error, RegistryError::NothingChanged { .. });
                prop_assert!(named, "{:?}", error);
            }
            Ok(published) => {
                let next = &published.registry;
                prop_assert_eq!(next.version, base.version + 1);
                prop_assert_eq!(validate(next), Ok(()));
                prop_assert_eq!(validate(next), validate(&next.clone()));
                prop_assert_eq!(&published.record.changes, &diff(&base, next));
                prop_assert!(!published.record.changes.is_empty());
                let at = Timestamp(NOW.0 + later);
                for m in &serving(next, at).models {
                    prop_assert!(m.retired_from.is_none_or(|t| at < t));
                }
                for capability in [Capability::Image, Capability::Video, Capability::Speech, Capability::Music, Capability::Assembly] {
                    prop_assert!(serving(next, at).with_capability(capability).next().is_some());
                }
            }
        }
    }
}
