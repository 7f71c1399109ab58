//! Every size limit of a Director Brief, in one place.
//!
//! A brief is small on the wire (the API reads at most 512 KiB) but planning multiplies parts of
//! it: each shot's keyframe prompt repeats the name and description of every cast member in the
//! shot. Without limits a long description referenced by many shots grows the plan (and the job
//! object that stores it) by orders of magnitude. So every text field and every list is capped,
//! and the one prompt that is assembled from several fields, the keyframe prompt, is capped as a
//! whole ([`MAX_KEYFRAME_PROMPT_CHARS`], computed at validation by
//! [`keyframe_prompt_chars`](super::text_size::keyframe_prompt_chars)).
//!
//! Lengths count characters (Unicode scalar values, `str::chars`), as the memory graph's text
//! limits do, so a creator writing in any script gets the same limit; one character is at most
//! 4 bytes of UTF-8, so a byte bound is 4 x the character bound ([`MAX_UTF8_BYTES_PER_CHAR`]).
//!
//! With these limits, every generation stage of a plan carries at most [`MAX_STAGE_TEXT_CHARS`]
//! characters of prompt or text and a whole plan at most [`MAX_PLAN_TEXT_CHARS`], whatever the
//! memory graph substitutes for cast descriptions.

/// The most shots one brief may have. The job scales past it (a callback into a 2,000-shot job
/// costs what one into a 12-shot job does, `make bench`); every shot is at least one clip of the
/// assembly's timeline, which [`MAX_TIMELINE_CLIPS`] bounds
pub const MAX_SHOTS: usize = 2000;
/// The most clips one assembly takes: our assembler's own limit (`assembler::timeline::MAX_ITEMS`,
/// rendering long timelines in chunks). A brief whose shots could split into more is refused at
/// validation, counted with [`motion_parts`]
pub const MAX_TIMELINE_CLIPS: usize = 2000;
/// The longest a single shot may be, seconds. Longer than any model renders in one call: the
/// planner splits a long shot into parts that continue each other (see `plan`); this only
/// rejects absurd values
pub const MAX_SHOT_DURATION_S: f64 = 300.0;
/// The planner splits a long shot by the longest clip one call makes, but never by less than
/// this, seconds (most video models make 10 s in one call). So a shot of `d` seconds is at most
/// `ceil(d / MIN_SPLIT_CLIP_S)` parts, each repeating the motion prompt, which
/// [`plan_text_chars`] counts
pub const MIN_SPLIT_CLIP_S: f64 = 10.0;
/// The longest master a brief may ask for, and the longest score, seconds (one hour). A score is
/// split into one segment per music call, so this also bounds the plan's stage count
pub const MAX_MASTER_DURATION_S: f64 = 3600.0;
/// The longest deadline a brief may ask for, seconds (7 days)
pub const MAX_DEADLINE_S: u64 = 7 * 24 * 3600;

/// The longest id (`project_id`, shot and cast ids, a dialogue's `character`); ids end up in
/// stage ids and R2 keys
pub const MAX_ID_LEN: usize = 64;
/// The longest `logline`
pub const MAX_LOGLINE_CHARS: usize = 500;
/// The longest `format` name (`short_doc`); format names are memory-graph keys, which are ids
pub const MAX_FORMAT_CHARS: usize = 64;
/// The longest cast member's `name`
pub const MAX_CAST_NAME_CHARS: usize = 100;
/// The longest cast member's `description` (repeated in the keyframe prompt of every shot the
/// member is in)
pub const MAX_CAST_DESCRIPTION_CHARS: usize = 1_000;
/// The longest shot `prompt`
pub const MAX_PROMPT_CHARS: usize = 2_000;
/// The longest dialogue `line`
pub const MAX_DIALOGUE_LINE_CHARS: usize = 500;
/// The longest `voiceover.text` (about half an hour of narration)
pub const MAX_VOICEOVER_TEXT_CHARS: usize = 5_000;
/// The longest `voiceover.voice` name (voice names are memory-graph keys, which are ids)
pub const MAX_VOICE_CHARS: usize = 64;
/// The longest `score.mood`
pub const MAX_SCORE_MOOD_CHARS: usize = 500;
/// The longest `webhook_url`
pub const MAX_WEBHOOK_URL_CHARS: usize = 2_048;

/// The most cast members a brief may have
pub const MAX_CAST: usize = 32;
/// The most cast members one shot may name (each without repeats)
pub const MAX_CAST_PER_SHOT: usize = 8;
/// The most platforms a brief may list (there are six)
pub const MAX_PLATFORMS: usize = 6;

/// The longest keyframe prompt a shot may produce: its prompt, then `. {name}: {description}` per
/// cast member in the shot (see [`keyframe_prompt_chars`]). The plan substitutes a description
/// the memory graph locked for a member only while the prompt stays within this limit.
pub const MAX_KEYFRAME_PROMPT_CHARS: usize = 4_000;

/// The most characters of prompt or text any one generation stage of a plan carries: the
/// keyframe prompt is the longest assembled prompt, the voiceover text the longest single field.
/// (The assembly carries every line and the narration again, for captions: bounded by
/// [`MAX_PLAN_TEXT_CHARS`].)
pub const MAX_STAGE_TEXT_CHARS: usize = if MAX_KEYFRAME_PROMPT_CHARS > MAX_VOICEOVER_TEXT_CHARS {
    MAX_KEYFRAME_PROMPT_CHARS
} else {
    MAX_VOICEOVER_TEXT_CHARS
};

/// The most characters of prompt and text a whole plan may carry over all its stages (keyframe
/// and motion prompts, dialogue lines, the voiceover, the score mood, the captions; see
/// [`plan_text_chars`]): at most 8 MB of UTF-8, however the brief repeats its cast
pub const MAX_PLAN_TEXT_CHARS: usize = 2_000_000;

/// The longest serde message a [`BriefError`](super::BriefError) carries, in characters:
/// serde quotes the offending value (`invalid type: string "..."`, `unknown variant `...``),
/// which may be most of the body; the API echoes the message, so it is cut there
pub const MAX_QUOTED_MESSAGE_CHARS: usize = 300;

/// Bytes of UTF-8 per character, at most
pub const MAX_UTF8_BYTES_PER_CHAR: usize = 4;
