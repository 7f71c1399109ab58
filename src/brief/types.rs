//! Wire types of the Director Brief (see `examples/brief.json`).

use serde::{Deserialize, Serialize};

use crate::ids::{ProjectId, ShotId};

/// What the creator optimises this video for; outcome data is read against it
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum OutcomeTarget {
    /// Average watch time and retention
    WatchTime,
    /// Purchases or other conversions
    Conversions,
    /// Reach
    Impressions,
    /// Sign-ups
    Signups,
}

/// Where a variant is published; each platform implies an aspect ratio
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum Platform {
    /// YouTube, 16:9
    Youtube,
    /// YouTube Shorts, 9:16
    YoutubeShorts,
    /// TikTok, 9:16
    Tiktok,
    /// Instagram Reels, 9:16
    Reels,
    /// X, 1:1
    X,
    /// LinkedIn, 1:1
    Linkedin,
}

/// Frame shape of a rendered clip or variant
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum AspectRatio {
    /// Landscape
    #[serde(rename = "16:9")]
    Landscape,
    /// Portrait
    #[serde(rename = "9:16")]
    Portrait,
    /// Square
    #[serde(rename = "1:1")]
    Square,
}

impl AspectRatio {
    /// The ratio as providers write it
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Landscape => "16:9",
            Self::Portrait => "9:16",
            Self::Square => "1:1",
        }
    }
}

impl Platform {
    /// The aspect ratio this platform's variant is cut to
    pub fn aspect(self) -> AspectRatio {
        match self {
            Self::Youtube => AspectRatio::Landscape,
            Self::YoutubeShorts | Self::Tiktok | Self::Reels => AspectRatio::Portrait,
            Self::X | Self::Linkedin => AspectRatio::Square,
        }
    }
}

/// The kind of a shot: drives minimum durations and model quality priors
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum ShotKind {
    /// Wide shot that sets the place
    Establishing,
    /// Face or detail
    CloseUp,
    /// Cutaway texture
    BRoll,
    /// A character speaks on screen
    Dialogue,
    /// Fast motion, effects
    Action,
    /// Many people
    Crowd,
}

impl ShotKind {
    /// Every shot kind, for tables and statistics
    pub const ALL: [Self; 6] = [
        Self::Establishing,
        Self::CloseUp,
        Self::BRoll,
        Self::Dialogue,
        Self::Action,
        Self::Crowd,
    ];

    /// The snake_case name used on the wire
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Establishing => "establishing",
            Self::CloseUp => "close_up",
            Self::BRoll => "b_roll",
            Self::Dialogue => "dialogue",
            Self::Action => "action",
            Self::Crowd => "crowd",
        }
    }
}

/// The energy of the edit
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum Energy {
    /// Long holds, slow build
    SlowBurn,
    /// Even rhythm
    Steady,
    /// Quick cuts
    Punchy,
}

/// Pacing targets Ra checks the shot list against
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Pacing {
    /// Intended length of the finished master, seconds
    #[schemars(extend("exclusiveMinimum" = 0), range(max = crate::brief::limits::MAX_MASTER_DURATION_S))]
    pub target_duration_s: f64,
    /// Edit energy
    pub energy: Energy,
}

/// A recurring character
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CastMember {
    /// Id used by shots and dialogue (`keeper`)
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_ID_LEN), regex(pattern = crate::brief::schema::SAFE_ID))]
    pub id: String,
    /// Display name. Leave out `name` and `description` (send only the `id`) to take the member
    /// from your Memory Graph: its look there (description and reference images) is used, and
    /// the id is its name. Without a look for that id in the Graph the render is refused with a
    /// 400 naming `cast[i].description`
    #[serde(default, deserialize_with = "present_name")]
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_CAST_NAME_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub name: String,
    /// Look description used when the memory graph has no locked look yet
    #[serde(default)]
    #[schemars(length(max = crate::brief::limits::MAX_CAST_DESCRIPTION_CHARS))]
    pub description: String,
}

/// A cast member's `name` when it is sent: it must show something. Only a name left out means
/// "from the Memory Graph" (a blank one is refused, as the document's `minLength` says, rather
/// than taken for an absent one)
fn present_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    if name.trim().is_empty() {
        return Err(serde::de::Error::custom(
            "must not be blank; leave `name` out to take the cast member from your Memory Graph",
        ));
    }
    Ok(name)
}

/// A cast member's name alone, deserialised by the same rule, so that the brief's error locator
/// (`validate::diagnose`) names `cast[i].name` for a blank one
#[derive(Deserialize)]
pub(crate) struct PresentName(
    #[serde(deserialize_with = "present_name")]
    #[allow(dead_code)]
    String,
);

impl CastMember {
    /// Whether the brief sent only the id: the member comes from the Memory Graph's look
    pub fn from_graph(&self) -> bool {
        self.name.is_empty() && self.description.is_empty()
    }
}

/// A spoken line within a shot
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DialogueLine {
    /// Cast id of the speaker
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_ID_LEN), regex(pattern = crate::brief::schema::SAFE_ID))]
    pub character: String,
    /// The words
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_DIALOGUE_LINE_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub line: String,
}

/// One shot of the shot list
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shot {
    /// Unique within the brief
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_ID_LEN), regex(pattern = crate::brief::schema::SAFE_ID))]
    pub id: ShotId,
    /// Shot kind
    pub kind: ShotKind,
    /// What the shot shows
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_PROMPT_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub prompt: String,
    /// Length in the edit, seconds
    #[schemars(extend("exclusiveMinimum" = 0))]
    #[schemars(range(max = crate::brief::limits::MAX_SHOT_DURATION_S))]
    pub duration_s: f64,
    /// Hero shots get more of the budget and the best models
    #[serde(default)]
    pub hero: bool,
    /// Cast ids in the shot
    #[serde(default)]
    #[schemars(length(max = crate::brief::limits::MAX_CAST_PER_SHOT), extend("uniqueItems" = true))]
    #[schemars(inner(length(min = 1, max = crate::brief::limits::MAX_ID_LEN), regex(pattern = crate::brief::schema::SAFE_ID)))]
    pub cast: Vec<String>,
    /// Optional line spoken in the shot
    #[serde(default)]
    pub dialogue: Option<DialogueLine>,
}

/// Narration over the whole video
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Voiceover {
    /// The words
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_VOICEOVER_TEXT_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub text: String,
    /// Voice name, resolved to a provider voice id through the memory graph
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_VOICE_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub voice: String,
}

/// Music bed
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Score {
    /// Mood prompt
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_SCORE_MOOD_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub mood: String,
    /// Length, seconds
    #[schemars(extend("exclusiveMinimum" = 0), range(max = crate::brief::limits::MAX_MASTER_DURATION_S))]
    pub duration_s: f64,
}

/// A Director Brief, as the app sends it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Brief {
    /// The creator's project this render belongs to
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_ID_LEN), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub project_id: ProjectId,
    /// One-line story
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_LOGLINE_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub logline: String,
    /// Format name (`short_doc`, `vlog`, ...), matched against the creator's format DNA: its
    /// hook style shapes the first shot and its pacing measures the shot list
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_FORMAT_CHARS), regex(pattern = crate::brief::schema::NON_BLANK))]
    pub format: String,
    /// What the video is optimised for
    pub outcome_target: OutcomeTarget,
    /// Seconds from creation by which the render should be done
    #[schemars(range(min = 1, max = crate::brief::limits::MAX_DEADLINE_S))]
    pub deadline_s: u64,
    /// Spend ceiling in US dollars
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub budget_usd: f64,
    /// Where variants are published
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_PLATFORMS))]
    pub platforms: Vec<Platform>,
    /// Pacing targets. May be left out when `format` names a format of the creator's Memory
    /// Graph: Ra then paces the cut by that format's DNA (its average shot length and energy).
    /// Without either, the render is refused with a 400 naming `pacing`
    #[serde(default)]
    pub pacing: Option<Pacing>,
    /// The master's frame shape. Absent: the audience's primary platform decides among the
    /// platforms' shapes (the Memory Graph's `audience`), else the first platform's shape
    #[serde(default)]
    pub master_aspect: Option<AspectRatio>,
    /// Characters
    #[serde(default)]
    #[schemars(length(max = crate::brief::limits::MAX_CAST))]
    pub cast: Vec<CastMember>,
    /// The shot list, in edit order. Back to back the shots last at most an hour, and split into
    /// at most 2,000 clips (a shot longer than 10 s may become several): what one assembly takes
    #[schemars(length(min = 1, max = crate::brief::limits::MAX_SHOTS))]
    pub shots: Vec<Shot>,
    /// Optional narration
    #[serde(default)]
    pub voiceover: Option<Voiceover>,
    /// Optional music
    #[serde(default)]
    pub score: Option<Score>,
    /// Where status changes are POSTed (signed)
    #[serde(default)]
    #[schemars(length(max = crate::brief::limits::MAX_WEBHOOK_URL_CHARS), regex(pattern = crate::brief::schema::WEBHOOK_URL))]
    pub webhook_url: Option<String>,
    /// How captions are delivered (a WebVTT file always comes with the outputs)
    #[serde(default)]
    pub captions: Captions,
}

/// Caption options of a brief
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(schemars::JsonSchema)]
pub struct Captions {
    /// Burn the captions into every video output, not only deliver the WebVTT file
    #[serde(default)]
    pub burn: bool,
}
