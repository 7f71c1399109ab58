//! The Channel Analyzer import (`studio::memory::import`): ISO 8601 durations, refusals that
//! name the field, what a channel's history teaches, hand-set values kept, idempotency and
//! determinism. Fixtures are built here in the real shapes of the YouTube Data API v3
//! `videos.list` response and the Analytics API v2 `reports.query` result.

use serde_json::{Value, json};
use studio::brief::{Energy, Platform};
use studio::memory::import::{
    ChannelImport, Iso8601Error, MAX_VIDEOS, apply_import, parse_duration, parse_import,
};
use studio::memory::{MemoryError, MemoryGraph, RowChange, RowKey, apply_edit, parse_edit};

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A video resource as `videos.list?part=snippet,contentDetails,statistics` returns it
fn video(id: &str, duration: &str, published: &str, views: u64) -> Value {
    json!({
        "kind": "youtube#video",
        "etag": "Xk3w5nJ2Y8l0bq",
        "id": id,
        "snippet": {
            "publishedAt": published,
            "channelId": "UC_x5XG1OV2P6uZZ5FSM9Ttw",
            "title": format!("video {id}"),
            "description": "a description the import does not read",
            "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/x/default.jpg", "width": 120, "height": 90}},
            "channelTitle": "Lighthouse Stories",
            "tags": ["sea", "lighthouse"],
            "categoryId": "22",
            "liveBroadcastContent": "none",
            "defaultAudioLanguage": "en",
            "localized": {"title": "t", "description": "d"}
        },
        "contentDetails": {"duration": duration, "dimension": "2d", "definition": "hd", "caption": "false", "licensedContent": true, "projection": "rectangular"},
        "statistics": {"viewCount": views.to_string(), "likeCount": (views / 10).to_string(), "favoriteCount": "0", "commentCount": (views / 100).to_string()}
    })
}

/// With the owner-only `fileDetails` part: the first stream's frame
fn framed(mut v: Value, width: u32, height: u32) -> Value {
    v["fileDetails"] = json!({"fileType": "video", "container": "mov", "videoStreams": [
        {"widthPixels": width, "heightPixels": height, "frameRateFps": 30.0, "codec": "h264", "rotation": "none", "bitrateBps": "8000000"}
    ]});
    v
}

fn response(items: Vec<Value>) -> Value {
    json!({
        "kind": "youtube#videoListResponse",
        "etag": "Jq1c1m2Sx0fOq",
        "nextPageToken": "CAUQAA",
        "pageInfo": {"totalResults": items.len(), "resultsPerPage": 50},
        "items": items
    })
}

/// A `reports.query` result: headers by name, rows as given
fn table(columns: &[(&str, &str, &str)], rows: Vec<Value>) -> Value {
    let headers: Vec<Value> = columns
        .iter()
        .map(|(name, kind, data)| json!({"name": name, "columnType": kind, "dataType": data}))
        .collect();
    json!({"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows})
}

const SHORT_A: &str = "shortAAAAA1";
const SHORT_B: &str = "shortBBBBB2";
const SHORT_C: &str = "shortCCCCC3";
const SHORT_LONG: &str = "shortLLLLL4";
const OLD_UPRIGHT: &str = "oldUprite05";
const WIDE_SHORT: &str = "wideShort06";
const TEN_MIN: &str = "tenMinutes7";
const HOUR: &str = "anHourLong8";
const LIVE: &str = "liveNow0009";
const UNPROCESSED: &str = "notYetDone0";

/// A channel: four Shorts (one a three-minute Short of 2024-11), four long-form videos (an
/// upright two-minute video of 2023, a wide 50 s clip, 10 min, 1 h 2 min 3 s), an upcoming
/// broadcast, an unprocessed upload and a repeated page item
fn channel() -> Value {
    let mut german = video(TEN_MIN, "PT10M", "2023-03-01T12:00:00Z", 500);
    german["snippet"]["defaultAudioLanguage"] = json!("de");
    let mut silent = video(HOUR, "PT1H2M3S", "2022-01-01T00:00:00.000Z", 500);
    silent["snippet"]["defaultAudioLanguage"] = json!("zxx");
    let mut live = video(LIVE, "P0D", "2025-01-01T00:00:00Z", 0);
    live["snippet"]["liveBroadcastContent"] = json!("upcoming");
    let mut items = vec![
        video(SHORT_A, "PT30S", "2024-01-10T10:00:00Z", 1000),
        video(SHORT_B, "PT45S", "2024-02-10T10:00:00Z", 2000),
        video(SHORT_C, "PT58S", "2024-03-10T10:00:00+02:00", 3000),
        framed(
            video(SHORT_LONG, "PT2M", "2024-11-02T17:00:00Z", 4000),
            1080,
            1920,
        ),
        framed(
            video(OLD_UPRIGHT, "PT2M", "2023-05-01T09:00:00Z", 500),
            1080,
            1080,
        ),
        framed(
            video(WIDE_SHORT, "PT50S", "2024-12-01T09:00:00Z", 500),
            1920,
            1080,
        ),
        german,
        silent,
        live,
        video(UNPROCESSED, "P0D", "2025-01-02T00:00:00Z", 0),
    ];
    // The same video again, as overlapping pages give it
    items.push(video(SHORT_A, "PT30S", "2024-01-10T10:00:00Z", 1000));
    let mut body = response(items);
    body["analytics"] = json!({
        "videos": table(
            &[("video", "DIMENSION", "STRING"), ("views", "METRIC", "INTEGER"),
              ("averageViewDuration", "METRIC", "INTEGER"), ("averageViewPercentage", "METRIC", "FLOAT")],
            vec![
                json!([SHORT_A, 100, 27, 90.0]),
                json!([SHORT_B, 300, 36, 80.0]),
                json!([TEN_MIN, 50, 240, 40.0]),
                json!([HOUR, 150, 600, 16.0]),
                json!(["notInImport", 999, 1, 1.0]),
            ],
        ),
        "countries": table(
            &[("country", "DIMENSION", "STRING"), ("views", "METRIC", "INTEGER")],
            vec![json!(["US", 700]), json!(["DE", 200]), json!(["FR", 60]), json!(["BR", 30]), json!(["ZZ", 10])],
        ),
    });
    body
}

fn import(body: &Value) -> Result<ChannelImport, MemoryError> {
    parse_import(&body.to_string())
}

fn learned(body: &Value) -> ChannelImport {
    match import(body) {
        Ok(i) => i,
        Err(e) => panic!("the fixture imports: {e}"),
    }
}

fn refused_field(body: &Value) -> String {
    match import(body) {
        Err(MemoryError::Invalid { field, .. }) => field,
        other => panic!("expected a refusal naming a field, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// ISO 8601 durations

#[test]
fn durations_youtube_writes_and_the_edges() {
    for (text, seconds) in [
        ("PT0S", 0.0),
        ("P0D", 0.0),
        ("PT4M13S", 253.0),
        ("PT15M51S", 951.0),
        ("PT1H", 3_600.0),
        ("P1DT2H", 93_600.0),
        ("P1DT2H3M4S", 93_784.0),
        ("PT1.5S", 1.5),
        ("PT0.25S", 0.25),
        ("PT36H", 129_600.0),
        ("P2W", 1_209_600.0),
        ("P1D", 86_400.0),
    ] {
        assert_eq!(parse_duration(text), Ok(seconds), "{text}");
    }
}

#[test]
fn invalid_durations_are_refused_with_the_reason() {
    for (text, why) in [
        ("", Iso8601Error::NoDesignator),
        ("4M13S", Iso8601Error::NoDesignator),
        ("pt4m13s", Iso8601Error::NoDesignator),
        ("-PT1S", Iso8601Error::NoDesignator),
        ("P", Iso8601Error::Empty("P")),
        ("PT", Iso8601Error::Empty("T")),
        ("P1DT", Iso8601Error::Empty("T")),
        ("P1Y", Iso8601Error::Unexpected('Y')),
        ("P1M", Iso8601Error::Unexpected('M')),
        ("P1D1D", Iso8601Error::Unexpected('D')),
        ("PT1S2M", Iso8601Error::Unexpected('M')),
        ("PT1H1H", Iso8601Error::Unexpected('H')),
        ("PT1,5S", Iso8601Error::Unexpected(',')),
        ("PT1H2", Iso8601Error::Dangling),
        ("PT1.5M", Iso8601Error::BadNumber),
        ("PT1.S", Iso8601Error::BadNumber),
        ("PT1234567890S", Iso8601Error::BadNumber),
        ("PT00:04:13", Iso8601Error::Unexpected(':')),
    ] {
        assert_eq!(parse_duration(text), Err(why), "{text:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Refusals name the field

#[test]
fn a_bad_duration_is_refused_naming_its_path() {
    let mut body = channel();
    body["items"][3]["contentDetails"]["duration"] = json!("2 minutes");
    assert_eq!(refused_field(&body), "items[3].contentDetails.duration");
    let Err(MemoryError::Invalid { message, .. }) = import(&body) else {
        unreachable!("refused above")
    };
    assert!(
        message.contains("2 minutes") && message.contains("ISO 8601"),
        "{message}"
    );
}

/// A change to the fixture that makes one field wrong
type Mutation = Box<dyn Fn(&mut Value)>;

#[test]
fn every_field_read_is_checked_and_named() {
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "kind",
            Box::new(|b| b["kind"] = json!("youtube#searchListResponse")),
        ),
        ("kind", Box::new(|b| b["kind"] = Value::Null)),
        ("items", Box::new(|b| b["items"] = json!([]))),
        ("items", Box::new(|b| b["items"] = json!({"a": 1}))),
        (
            "items[2]",
            Box::new(|b| b["items"][2] = json!("dQw4w9WgXcQ")),
        ),
        (
            "items[1].kind",
            Box::new(|b| b["items"][1]["kind"] = json!("youtube#playlistItem")),
        ),
        (
            "items[1].id",
            Box::new(|b| b["items"][1]["id"] = json!("short")),
        ),
        (
            "items[1].id",
            Box::new(|b| b["items"][1]["id"] = json!({"videoId": "dQw4w9WgXcQ"})),
        ),
        (
            "items[0].contentDetails",
            Box::new(|b| {
                if let Some(o) = b["items"][0].as_object_mut() {
                    o.remove("contentDetails");
                }
            }),
        ),
        (
            "items[0].contentDetails.duration",
            Box::new(|b| b["items"][0]["contentDetails"]["duration"] = json!(253)),
        ),
        (
            "items[4].statistics.viewCount",
            Box::new(|b| b["items"][4]["statistics"]["viewCount"] = json!(1234)),
        ),
        (
            "items[4].statistics.likeCount",
            Box::new(|b| b["items"][4]["statistics"]["likeCount"] = json!("-3")),
        ),
        (
            "items[2].snippet.publishedAt",
            Box::new(|b| b["items"][2]["snippet"]["publishedAt"] = json!("yesterday")),
        ),
        (
            "items[2].snippet.defaultAudioLanguage",
            Box::new(|b| b["items"][2]["snippet"]["defaultAudioLanguage"] = json!("English")),
        ),
        (
            "items[3].fileDetails.videoStreams[0].widthPixels",
            Box::new(|b| b["items"][3]["fileDetails"]["videoStreams"][0]["widthPixels"] = json!(0)),
        ),
        ("format", Box::new(|b| b["format"] = json!("my format!"))),
        (
            "analytics.extra",
            Box::new(|b| b["analytics"]["extra"] = json!({})),
        ),
        (
            "analytics.videos.rows[1]",
            Box::new(|b| b["analytics"]["videos"]["rows"][1] = json!([SHORT_B, 300])),
        ),
        (
            "analytics.videos.rows[0][0]",
            Box::new(|b| b["analytics"]["videos"]["rows"][0][0] = json!("nope")),
        ),
        (
            "analytics.videos.rows[0][3]",
            Box::new(|b| b["analytics"]["videos"]["rows"][0][3] = json!(-5)),
        ),
        (
            "analytics.videos.columnHeaders",
            Box::new(|b| b["analytics"]["videos"]["columnHeaders"][0]["name"] = json!("day")),
        ),
        (
            "analytics.countries.columnHeaders",
            Box::new(|b| b["analytics"]["countries"]["columnHeaders"][1]["name"] = json!("likes")),
        ),
        (
            "analytics.countries.rows[1][0]",
            Box::new(|b| b["analytics"]["countries"]["rows"][1][0] = json!("Germany")),
        ),
        (
            "analytics.countries.rows[2][1]",
            Box::new(|b| b["analytics"]["countries"]["rows"][2][1] = json!(1.5)),
        ),
        (
            "analytics.countries.kind",
            Box::new(|b| b["analytics"]["countries"]["kind"] = json!("youtube#videoListResponse")),
        ),
    ];
    for (field, mutate) in cases {
        let mut body = channel();
        mutate(&mut body);
        assert_eq!(refused_field(&body), field, "{body}");
    }
}

#[test]
fn malformed_and_wrong_bodies() {
    assert!(matches!(
        parse_import("{\"kind\": "),
        Err(MemoryError::Malformed { .. })
    ));
    assert!(matches!(
        parse_import(&format!("{} trailing", channel())),
        Err(MemoryError::Malformed { .. })
    ));
    for body in ["[]", "42", "null", "\"videos\""] {
        assert!(
            matches!(parse_import(body), Err(MemoryError::Invalid { ref field, .. }) if field == "body"),
            "{body}"
        );
    }
}

#[test]
fn the_video_cap_is_checked_before_the_rest_is_parsed() {
    let one = video(SHORT_A, "PT30S", "2024-01-10T10:00:00Z", 1);
    let mut items = vec![one; MAX_VIDEOS];
    assert!(import(&response(items.clone())).is_ok(), "exactly the cap");
    // One more, then a broken one: the cap is what is reported, the broken item never read.
    items.push(video(SHORT_B, "PT30S", "2024-01-10T10:00:00Z", 1));
    items.push(json!("not a video"));
    assert_eq!(refused_field(&response(items)), "items");
}

// ---------------------------------------------------------------------------------------------
// What a channel teaches

#[test]
fn the_channel_gives_format_dna_audience_and_priors() {
    let import = learned(&channel());
    assert_eq!(import.videos, 8);
    assert_eq!(
        (
            import.skipped.live,
            import.skipped.no_length,
            import.skipped.duplicate
        ),
        (1, 1, 1)
    );
    let p = &import.learned;
    let names: Vec<&str> = p.formats.iter().map(|f| f.format.as_str()).collect();
    assert_eq!(names, ["long_form", "shorts"]);

    // Shorts: 30, 45, 58 s (no frame known, up to 60 s) and the upright 2-min Short of 2024-11
    let shorts = p.format("shorts").expect("shorts");
    assert_eq!(shorts.videos, 4);
    assert_eq!(shorts.avg_duration_s, (30.0 + 45.0 + 58.0 + 120.0) / 4.0);
    assert_eq!(shorts.avg_views, Some(2_500.0));
    // likes are views / 10 and comments views / 100: 0.11 per view
    assert_eq!(shorts.engagement_rate, Some(0.11));
    // Weighted by the report's views: (90 * 100 + 80 * 300) / 400
    assert_eq!(shorts.avg_view_percentage, Some(82.5));
    assert_eq!(shorts.avg_view_duration_s, Some(33.75));
    assert_eq!(shorts.pacing.avg_shot_s, 3.0);
    assert_eq!(shorts.pacing.energy, Energy::Punchy);

    // Long-form: the square 2-min video of 2023 (before three-minute Shorts), the wide 50 s
    // clip, 10 min and 1 h 2 min 3 s
    let long = p.format("long_form").expect("long_form");
    assert_eq!(long.videos, 4);
    assert_eq!(long.avg_duration_s, (120.0 + 50.0 + 600.0 + 3_723.0) / 4.0);
    assert_eq!(long.avg_views, Some(500.0));
    assert_eq!(long.avg_view_percentage, Some(22.0)); // (40 * 50 + 16 * 150) / 200
    assert_eq!(long.avg_view_duration_s, Some(510.0)); // (240 * 50 + 600 * 150) / 200
    assert_eq!(long.pacing.avg_shot_s, 6.0);
    assert_eq!(long.pacing.energy, Energy::SlowBurn);

    // 10,000 views on Shorts against 2,000 long-form
    assert_eq!(p.primary_platform, Some(Platform::YoutubeShorts));
    // US 70 %, DE 20 %, FR 6 %; BR under 5 %; ZZ (unknown) is no region
    assert_eq!(p.regions, ["US", "DE", "FR"]);
    // six `en`, one `de`; `zxx` (no speech) does not count
    assert_eq!(p.language.as_deref(), Some("en"));
}

#[test]
fn a_format_named_by_the_import_takes_every_video() {
    let mut body = channel();
    body["format"] = json!("lighthouse_series");
    let import = learned(&body);
    assert_eq!(import.learned.formats.len(), 1);
    let series = &import.learned.formats[0];
    assert_eq!(series.format, "lighthouse_series");
    assert_eq!(series.videos, 8);
    // The platform still comes from each video's own kind.
    assert_eq!(
        import.learned.primary_platform,
        Some(Platform::YoutubeShorts)
    );
}

#[test]
fn reports_are_optional_and_unknown_fields_are_skipped() {
    let mut body = channel();
    if let Some(o) = body.as_object_mut() {
        o.remove("analytics");
        o.insert("prevPageToken".into(), json!({"anything": [1, 2]}));
    }
    body["items"][0]["snippet"]["tags"] = json!(42);
    body["items"][0]["player"] = json!({"embedHtml": "<iframe>"});
    let import = learned(&body);
    assert!(import.learned.regions.is_empty());
    assert_eq!(import.learned.formats[1].avg_view_percentage, None);
    assert_eq!(import.learned.formats[1].videos, 4);
}

// ---------------------------------------------------------------------------------------------
// Merging into the graph

fn graph() -> MemoryGraph {
    MemoryGraph::new("demo".into())
}

#[test]
fn an_import_fills_an_empty_graph() {
    let mut g = graph();
    let applied = apply_import(&mut g, &learned(&channel()));
    assert!(applied.changed);
    assert!(applied.kept.is_empty(), "{:?}", applied.kept);
    assert!(
        applied
            .changes
            .contains(&RowChange::Upsert(RowKey::Format("shorts".into())))
    );
    assert!(
        applied
            .changes
            .contains(&RowChange::Upsert(RowKey::Audience))
    );
    assert!(
        applied
            .changes
            .contains(&RowChange::Upsert(RowKey::Channel))
    );
    let shorts = g
        .formats
        .iter()
        .find(|f| f.format == "shorts")
        .expect("dna");
    assert_eq!(shorts.pacing.avg_shot_s, 3.0);
    assert!(shorts.shot_mix.is_empty() && shorts.hook_style.is_none());
    let audience = g.audience.as_ref().expect("audience");
    assert_eq!(audience.primary_platform, Some(Platform::YoutubeShorts));
    assert_eq!(audience.regions, ["US", "DE", "FR"]);
    assert!(audience.interests.is_empty());
    assert_eq!(
        g.channel.as_ref().and_then(|c| c.language.as_deref()),
        Some("en")
    );
}

#[test]
fn importing_the_same_history_twice_changes_nothing_the_second_time() {
    let mut g = graph();
    let import = learned(&channel());
    assert!(apply_import(&mut g, &import).changed);
    let after_first = g.clone();
    let second = apply_import(&mut g, &import);
    assert!(!second.changed);
    assert!(second.changes.is_empty() && second.written.is_empty());
    assert_eq!(g, after_first);
    // Parsed again from the same bytes: the same
    let again = apply_import(&mut g, &learned(&channel()));
    assert!(!again.changed);
}

#[test]
fn the_same_history_in_another_order_learns_the_same() {
    let body = channel();
    let mut reordered = body.clone();
    if let Some(items) = reordered["items"].as_array_mut() {
        // Keep the repeated item after its first occurrence, reverse the rest.
        let repeat = items.pop();
        items.reverse();
        items.extend(repeat);
    }
    if let Some(rows) = reordered["analytics"]["videos"]["rows"].as_array_mut() {
        rows.reverse();
    }
    assert_eq!(learned(&body), learned(&reordered));
    assert_eq!(learned(&body), learned(&body));
}

#[test]
fn values_set_by_hand_are_never_overwritten() {
    let mut g = graph();
    let edit = parse_edit(
        &json!({
            "formats": {"long_form": {"pacing": {"avg_shot_s": 3.5, "energy": "steady"}, "hook_style": "cold open"}},
            "audience": {"regions": ["GB"], "interests": ["sea"]}
        })
        .to_string(),
    )
    .expect("edit parses");
    apply_edit(&mut g, &edit).expect("edit applies");
    let mine = g.formats.clone();

    let applied = apply_import(&mut g, &learned(&channel()));
    let kept: Vec<&str> = applied.kept.iter().map(|k| k.field.as_str()).collect();
    assert_eq!(kept, ["formats.long_form", "audience.regions"]);
    assert_eq!(
        g.formats.iter().find(|f| f.format == "long_form"),
        mine.first()
    );
    let audience = g.audience.as_ref().expect("audience");
    assert_eq!(audience.regions, ["GB"]);
    assert_eq!(audience.interests, ["sea"]);
    // What was unset is filled, and the estimate is kept under `channel`
    assert_eq!(audience.primary_platform, Some(Platform::YoutubeShorts));
    assert!(g.formats.iter().any(|f| f.format == "shorts"));
    let estimate = g.channel.as_ref().and_then(|c| c.format("long_form"));
    assert_eq!(estimate.map(|f| f.pacing.avg_shot_s), Some(6.0));

    // The creator now edits the imported Shorts DNA: a later import leaves it too.
    let edit = parse_edit(
        &json!({"formats": {"shorts": {"pacing": {"avg_shot_s": 1.2, "energy": "punchy"}}}})
            .to_string(),
    )
    .expect("edit parses");
    apply_edit(&mut g, &edit).expect("edit applies");
    let mut body = channel();
    body["items"][0]["contentDetails"]["duration"] = json!("PT20S");
    let applied = apply_import(&mut g, &learned(&body));
    assert!(applied.kept.iter().any(|k| k.field == "formats.shorts"));
    let shorts = g
        .formats
        .iter()
        .find(|f| f.format == "shorts")
        .expect("dna");
    assert_eq!(shorts.pacing.avg_shot_s, 1.2);
}

#[test]
fn what_an_import_wrote_a_later_import_updates() {
    let mut g = graph();
    assert!(apply_import(&mut g, &learned(&channel())).changed);
    // Only long videos this time: long-form pacing moves to another band, Shorts stay as they
    // were (an import deletes nothing).
    let body = response(vec![
        video(TEN_MIN, "PT4M", "2023-03-01T12:00:00Z", 9_000),
        video(HOUR, "PT5M", "2022-01-01T00:00:00Z", 9_000),
    ]);
    let applied = apply_import(&mut g, &learned(&body));
    assert!(applied.changed);
    assert!(applied.kept.is_empty(), "{:?}", applied.kept);
    let long = g
        .formats
        .iter()
        .find(|f| f.format == "long_form")
        .expect("dna");
    assert_eq!(long.pacing.avg_shot_s, 4.5);
    assert!(g.formats.iter().any(|f| f.format == "shorts"));
    let channel = g.channel.as_ref().expect("priors");
    assert_eq!(channel.format("shorts").map(|f| f.videos), Some(4));
    assert_eq!(channel.format("long_form").map(|f| f.videos), Some(2));
    // All long-form now: the platform the last import wrote follows
    assert_eq!(
        g.audience.as_ref().and_then(|a| a.primary_platform),
        Some(Platform::Youtube)
    );
    // The regions of the first import stay (this one had no country report)
    assert_eq!(
        g.audience.as_ref().map(|a| a.regions.clone()),
        Some(vec!["US".to_owned(), "DE".to_owned(), "FR".to_owned()])
    );
}

#[test]
fn past_the_format_cap_an_import_keeps_rather_than_refuses() {
    let mut g = graph();
    let one = |format: &str| {
        let mut body = response(vec![video(SHORT_A, "PT30S", "2024-01-10T10:00:00Z", 10)]);
        body["format"] = json!(format);
        learned(&body)
    };
    for i in 0..studio::memory::edit::MAX_FORMATS {
        assert!(apply_import(&mut g, &one(&format!("series_{i}"))).changed);
    }
    let before = g.clone();
    let applied = apply_import(&mut g, &one("one_too_many"));
    assert!(!applied.changed);
    assert_eq!(applied.kept.len(), 1);
    assert_eq!(applied.kept[0].field, "formats.one_too_many");
    assert_eq!(g, before);
}
